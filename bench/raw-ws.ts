// Reference (4): raw `ws`, every incoming frame sent to every socket (ws's README broadcast):
// the practical limit for a Node WebSocket fan-out.
import { WebSocketServer, WebSocket } from 'ws';

const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST || '127.0.0.1' });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
});
