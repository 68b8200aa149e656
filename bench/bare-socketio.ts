// Reference (2): bare Socket.IO with defaults, re-emitting every `textmsg` to everyone.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer);
io.on('connection', (socket) => {
  socket.on('textmsg', (msg) => io.emit('textmsg', msg));
});
httpServer.listen(Number(process.env.PORT ?? 3000), process.env.HOST || '127.0.0.1');
