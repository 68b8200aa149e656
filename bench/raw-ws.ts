// Reference (4): raw `ws`, every incoming frame sent to every socket of the sender's room (ws's README
// broadcast, per room): the practical limit for a Node WebSocket fan-out. The room is named in the URL
// (`/?room=r3`, `main` without one); the rooms are the only client list kept.
import { WebSocketServer, WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST || '127.0.0.1', clientTracking: false });
wss.on('connection', (ws, req) => {
  const name = new URL(req.url ?? '/', 'ws://localhost').searchParams.get('room') ?? 'main';
  const room = rooms.get(name) ?? rooms.set(name, new Set()).get(name)!;
  room.add(ws);
  ws.on('close', () => room.delete(ws));
  ws.on('message', (data, isBinary) => {
    for (const client of room) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
});
