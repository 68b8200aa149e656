// Reference (3): the classic chat tutorial, bare Socket.IO in rooms plus the room's online count sent to
// the room on every connect and disconnect (quadratic in a connect storm).
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const httpServer = createServer();
const io = new Server(httpServer);
const sayOnline = (room: string) => io.to(room).emit('online', { count: io.sockets.adapter.rooms.get(room)?.size ?? 0 });
io.on('connection', (socket) => {
  const room = String(socket.handshake.auth.room ?? 'main');
  socket.join(room);
  sayOnline(room);
  socket.on('textmsg', (msg) => io.to(room).emit('textmsg', msg));
  socket.on('disconnect', () => sayOnline(room)); // it has left the room by then
});
httpServer.listen(Number(process.env.PORT ?? 3000), process.env.HOST || '127.0.0.1');
