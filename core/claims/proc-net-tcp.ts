// Listening TCP ports from the text of /proc/net/tcp and /proc/net/tcp6 (state 0A = LISTEN).
//   sl  local_address rem_address   st tx_queue rx_queue ...
//    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 ...
export interface ListeningSocket {
  address: string;
  port: number;
}

export function listeningSockets(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || !/^\d+:$/.test(cols[0])) continue;
    if (cols[3].toUpperCase() !== '0A') continue;
    const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(cols[1]);
    if (!m) continue;
    out.push({ address: hexAddress(m[1]), port: parseInt(m[2], 16) });
  }
  return out;
}

function hexAddress(hex: string): string {
  // The kernel prints each 32-bit word in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}
