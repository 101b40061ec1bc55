// mentorlink — the Node side of the Noise interoperability tests.
//
// Plays one role of one handshake with noise-handshake (holepunchto), an
// implementation independent of ours, and does only what it is told: the C
// driver (noise_interop_peer.c) sends commands on stdin and judges every
// answer. One command per line, one answer per line, "<word> <hex>":
//
//   write <payload>  -> hs <handshake message carrying payload>
//   read <message>   -> payload <decrypted payload>
//   hash             -> hash <64-byte handshake hash>   (once complete)
//   rs               -> rs <peer's static public key>   (once known)
//   protocol         -> protocol <protocol name as bytes>
//   enc <plaintext>  -> ct <transport ciphertext>        (once complete)
//   dec <ciphertext> -> pt <plaintext>                   (once complete)
//
// Any failure answers "err <hex of the message>" and the peer keeps going, so
// the driver can check that a forged message is refused. EOF on stdin ends it.
//
//   node noise_peer.mjs PATTERN initiator|responder STATIC_PRIV_HEX
//                       REMOTE_STATIC_PUB_HEX|- PROLOGUE_HEX PSK_HEX|-
//
// Runs on Node.js 18 (Debian 12) and later: node: built-ins only.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

const require = createRequire(import.meta.url)
const Noise = require('noise-handshake')
const Cipher = require('noise-handshake/cipher')
const curve = require('noise-handshake/dh')

function fromHex (s, what) {
  if (!/^(?:[0-9a-f]{2})*$/.test(s)) throw new Error(`${what}: not lowercase hex`)
  return Buffer.from(s, 'hex')
}

function usage (msg) {
  process.stderr.write(`noise_peer: ${msg}\n` +
    'usage: node noise_peer.mjs PATTERN initiator|responder STATIC_PRIV_HEX ' +
    'REMOTE_STATIC_PUB_HEX|- PROLOGUE_HEX PSK_HEX|-\n')
  process.exit(2)
}

const args = process.argv.slice(2)
if (args.length !== 6) usage(`expected 6 arguments, got ${args.length}`)
const [pattern, role, staticHex, remoteHex, prologueHex, pskHex] = args
if (role !== 'initiator' && role !== 'responder') usage(`bad role ${role}`)

let noise
try {
  // generateKeyPair(secretKey) derives the public key with crypto_scalarmult_base.
  const staticKeyPair = curve.generateKeyPair(fromHex(staticHex, 'static key'))
  const opts = pskHex === '-' ? {} : { psk: fromHex(pskHex, 'psk') }
  noise = new Noise(pattern, role === 'initiator', staticKeyPair, opts)
  noise.initialise(fromHex(prologueHex, 'prologue'),
    remoteHex === '-' ? undefined : fromHex(remoteHex, 'remote static key'))
} catch (e) {
  usage(`cannot set up ${pattern}: ${e.message}`)
}

// noise-handshake names the keys from its own point of view: tx is the key
// this side sends with (the initiator's tx is the first key of Split()).
let sender = null
let receiver = null
function transport () {
  if (!noise.complete) throw new Error('handshake not complete')
  if (sender === null) {
    sender = new Cipher(noise.tx)
    receiver = new Cipher(noise.rx)
  }
}

const commands = {
  write: (payload) => ['hs', noise.send(payload)],
  read: (message) => ['payload', noise.recv(message)],
  hash: () => {
    if (!noise.complete) throw new Error('handshake not complete')
    return ['hash', noise.hash]
  },
  rs: () => {
    if (!noise.rs) throw new Error('remote static key not known')
    return ['rs', noise.rs]
  },
  protocol: () => ['protocol', noise.protocol],
  enc: (plaintext) => {
    transport()
    return ['ct', sender.encrypt(plaintext)]
  },
  dec: (ciphertext) => {
    transport()
    return ['pt', receiver.decrypt(ciphertext)]
  }
}

function answer (line) {
  const sp = line.indexOf(' ')
  const word = sp < 0 ? line : line.slice(0, sp)
  const arg = sp < 0 ? '' : line.slice(sp + 1)
  try {
    const command = commands[word]
    if (!command) throw new Error(`unknown command ${JSON.stringify(word)}`)
    const [reply, bytes] = command(fromHex(arg, word))
    return `${reply} ${Buffer.from(bytes).toString('hex')}\n`
  } catch (e) {
    return `err ${Buffer.from(String(e && e.message)).toString('hex')}\n`
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  process.stdout.write(answer(line))
}
