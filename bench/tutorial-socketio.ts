// Reference (3): the classic chat tutorial, bare Socket.IO plus the online count broadcast to
// everyone on every connect and disconnect (quadratic in a connect storm).
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer);
let count = 0;
io.on('connection', (socket) => {
  io.emit('online', { count: ++count });
  socket.on('textmsg', (msg) => io.emit('textmsg', msg));
  socket.on('disconnect', () => io.emit('online', { count: --count }));
});
httpServer.listen(Number(process.env.PORT ?? 3000), process.env.HOST || '127.0.0.1');
