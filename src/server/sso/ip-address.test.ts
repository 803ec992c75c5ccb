/**
 * Server-side request forgery (CWE-918, OWASP ASVS 12.6.1): the address classes the outbound-fetch
 * guard refuses, including IPv6 spellings of IPv4 targets (`::ffff:127.0.0.1`) that naive
 * string checks miss, and the cloud metadata address 169.254.169.254.
 */
import { describe, expect, it } from 'vitest'
import { classifyAddress, isPublicAddress, parseIPv6 } from './ip-address'

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['169.254.0.1', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['100.128.0.1', 'public'],
    ['169.253.255.255', 'public'],
  ])('IPv4 %s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind)
  })

  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456:789a::1', 'unique_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['64:ff9b:1::1', 'private'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
    ['[::1]', 'loopback'],
  ])('IPv6 %s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind)
  })

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:a9fe:a9fe', 'link_local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:0101::1', 'private'],
  ])('an IPv6 address embedding an IPv4 one is classified by it: %s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind)
  })

  it('refuses anything that is not an IP literal', () => {
    expect(() => classifyAddress('localhost')).toThrow(/not an IP address/)
    expect(() => classifyAddress('1.2.3')).toThrow(/not an IP address/)
  })

  it('parses every IPv6 spelling to the same bytes', () => {
    expect(Array.from(parseIPv6('::ffff:127.0.0.1'))).toEqual(Array.from(parseIPv6('0:0:0:0:0:ffff:7f00:0001')))
    expect(Array.from(parseIPv6('2001:db8::'))).toEqual([0x20, 0x01, 0x0d, 0xb8, ...Array(12).fill(0)])
  })

  it('calls only globally routable unicast public', () => {
    expect(isPublicAddress('93.184.216.34')).toBe(true)
    expect(isPublicAddress('169.254.169.254')).toBe(false)
  })
})
