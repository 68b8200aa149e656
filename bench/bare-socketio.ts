// Reference (2): bare Socket.IO with defaults: each socket joins the room named in its handshake (as ours
// does, `main` without one) and every `textmsg` is re-emitted to that room.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer);
io.on('connection', (socket) => {
  const room = String(socket.handshake.auth.room ?? 'main');
  socket.join(room);
  socket.on('textmsg', (msg) => io.to(room).emit('textmsg', msg));
});
httpServer.listen(Number(process.env.PORT ?? 3000), process.env.HOST || '127.0.0.1');
