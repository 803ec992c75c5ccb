/**
 * Issue 11 item 11 (edge part): requests node's HTTP parser refuses used to be dropped without an
 * answer — a client or a load balancer saw a reset connection it could not tell from a crash.
 * Attack/fault: oversized headers (RFC 6585 §5: 431), an invalid or conflicting Content-Length
 * (request smuggling shapes, RFC 9112 §6.3: 400), malformed request lines. Each now gets a minimal
 * status answer and the connection closes; the server keeps serving.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAppServer, type RunningAppServer } from '../setup/app-server'

let server: RunningAppServer

beforeAll(async () => {
  server = await startAppServer({ runId: inject('runId'), name: 'edge' })
})
afterAll(async () => {
  await server?.stop()
})

/** Sends raw bytes and resolves with everything the server wrote until it closed the socket. */
function rawRequest(bytes: string, timeoutMs = 5_000): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolveResponse, reject) => {
    const socket = connect(server.port, '127.0.0.1')
    let response = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolveResponse({ response, closed: false })
    }, timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk) => (response += chunk))
    socket.on('error', (error) => {
      clearTimeout(timer)
      if (response) resolveResponse({ response, closed: true })
      else reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolveResponse({ response, closed: true })
    })
    socket.write(bytes)
  })
}

function statusLine(response: string): string {
  return response.split('\r\n')[0] ?? ''
}

describe('limits at the edge answer with a status instead of dropping the connection', () => {
  it('headers over the server limit → 431 Request Header Fields Too Large, connection closed', async () => {
    const { response, closed } = await rawRequest(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(statusLine(response)).toBe('HTTP/1.1 431 Request Header Fields Too Large')
    expect(response).toMatch(/\r\nconnection: close\r\n/i)
    expect(closed).toBe(true)
  })

  it('many headers adding up past the limit → 431', async () => {
    const headers = Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(60)}`).join('\r\n')
    const { response } = await rawRequest(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n\r\n`)
    expect(statusLine(response)).toBe('HTTP/1.1 431 Request Header Fields Too Large')
  })

  it.each([
    ['a non-numeric Content-Length', 'Content-Length: abc\r\n'],
    ['a negative Content-Length', 'Content-Length: -5\r\n'],
    ['two conflicting Content-Lengths (smuggling)', 'Content-Length: 5\r\nContent-Length: 6\r\n'],
    ['Content-Length together with chunked Transfer-Encoding (smuggling)', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
  ])('%s → 400 Bad Request', async (_label, lengthHeaders) => {
    const { response, closed } = await rawRequest(`POST /api/trpc/auth.signIn HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${lengthHeaders}\r\nhello`)
    expect(statusLine(response)).toBe('HTTP/1.1 400 Bad Request')
    expect(closed).toBe(true)
  })

  it('a malformed request line → 400 Bad Request', async () => {
    const { response } = await rawRequest('GET /\x01bad HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    expect(statusLine(response)).toBe('HTTP/1.1 400 Bad Request')
  })

  it('the server still answers normal requests afterwards', async () => {
    const response = await fetch(`${server.url}/api/health`)
    expect(response.status).toBe(200)
    expect(server.output()).not.toMatch(/request failed|uncaught/i)
  })
})
