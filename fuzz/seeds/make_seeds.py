#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets from the strongSwan capture in
crates/wire/tests/data/strongswan-mobike-basic (needs python3-cryptography).

    python3 fuzz/seeds/make_seeds.py

parse_message/        every IKE message of the capture (non-ESP marker removed)
decrypt_sk/           mode octet + UDP payload as captured (marker kept), and
                      0x80 + first inner payload type + SK plaintext
parse_payload_chain/  first payload type + chain: outer chains and SK plaintexts
                      without the Pad Length octet
spans/                the parse_message and parse_payload_chain inputs, and
                      first inner payload type + whole SK plaintext
notify_data/          Notify Message Type + Notification Data of every notify
                      in the capture, and one of each typed layout
esp/                  ESP packets, seal inputs, plaintexts and pings for the
                      fixed SA of fuzz_targets/esp.rs (no ESP in the capture)
byte_view/            key selector + IKE message, and 0x80 + first inner
                      payload type + SK plaintext
"""
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "crates", "wire", "tests", "data",
                    "strongswan-mobike-basic")


def udp_datagrams(pcap):
    le = pcap[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    e = "<" if le else ">"
    assert struct.unpack(e + "I", pcap[20:24])[0] & 0x0FFFFFFF == 276
    off = 24
    while off < len(pcap):
        incl = struct.unpack(e + "I", pcap[off + 8:off + 12])[0]
        frame = pcap[off + 16:off + 16 + incl]
        off += 16 + incl
        if frame[0:2] != b"\x08\x00":
            continue
        ip = frame[20:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:struct.unpack(">H", ip[2:4])[0]]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield sport, dport, udp[8:ulen]


def keys():
    for line in open(os.path.join(DATA, "keys")):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split(",")
        return bytes.fromhex(f[2]), bytes.fromhex(f[3])


def port_bits(p):
    return {500: 0, 4500: 1, 61000: 2, 4501: 3}[p]


def notifies(first, chain):
    """(type, data) of each Notify payload in a payload chain."""
    kind, off = first, 0
    while kind != 0 and off + 4 <= len(chain):
        nxt, plen = chain[off], struct.unpack(">H", chain[off + 2:off + 4])[0]
        body = chain[off + 4:off + plen]
        if kind == 41 and len(body) >= 4:
            spi_size = body[1]
            yield body[2:4], body[4 + spi_size:]
        if kind == 46 or plen < 4:
            return
        kind, off = nxt, off + plen


def notify_layouts():
    """One Notification Data of each typed layout (RFC 4555 §4, RFC 5685)."""
    t = lambda n: struct.pack(">H", n)
    v4, v6 = bytes([192, 0, 2, 10]), bytes.fromhex("20010db8" + "00" * 11 + "0a")
    fqdn = b"gw.example.org"
    yield t(16385) + struct.pack(">I", 2)                       # SET_WINDOW_SIZE
    yield t(16390) + bytes(range(16))                           # COOKIE
    yield t(16401) + bytes(range(8))                            # COOKIE2
    yield t(16397) + v4                                         # ADDITIONAL_IP4_ADDRESS
    yield t(16398) + v6                                         # ADDITIONAL_IP6_ADDRESS
    yield t(16402) + v4 + bytes([203, 0, 113, 10]) + t(4500) + t(4500)  # NO_NATS_ALLOWED
    yield t(16402) + v6 + v6[::-1] + t(500) + t(4500)
    yield t(16407) + bytes([1, 4]) + v4                         # REDIRECT
    yield t(16407) + bytes([2, 16]) + v6 + bytes(range(32))     # ... with Nonce Data
    yield t(16407) + bytes([3, len(fqdn)]) + fqdn
    yield t(16407) + bytes([250, 3]) + b"abc"
    yield t(16408) + bytes([3, len(fqdn)]) + fqdn               # REDIRECTED_FROM
    yield t(16396) + b"x"                                       # MOBIKE_SUPPORTED
    yield t(40)                                                 # UNACCEPTABLE_ADDRESSES
    yield t(17) + t(31)                                         # INVALID_KE_PAYLOAD
    yield t(50000) + b"status"


# The SA of fuzz_targets/esp.rs.
ESP_SPI = 0xC0FFEE01
ESP_KEYMAT = bytes([0x42] * 20)


def ping(reply, ident, seq):
    """IPv4 + ICMP echo, as ip::Ping::to_packet makes it."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF
    icmp = bytes([0 if reply else 8, 0, 0, 0]) + struct.pack(">HH", ident, seq)
    icmp += b"mobike-playground"
    icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0x4000, 64, 1, 0,
                    bytes([10, 99, 0, 2]), bytes([10, 1, 0, 1]))
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    return h + icmp


def esp_seeds():
    out = []
    for seq, inner in [(1, ping(False, 7, 1)), (2, ping(True, 7, 1)), (3, b""), (4, b"abcde")]:
        pad = (4 - (len(inner) + 2) % 4) % 4
        plain = inner + bytes(range(1, pad + 1)) + bytes([pad, 4])
        aad = struct.pack(">II", ESP_SPI, seq)
        iv = struct.pack(">Q", seq)
        ct = AESGCM(ESP_KEYMAT[:-4]).encrypt(ESP_KEYMAT[-4:] + iv, plain, aad)
        out.append(b"\x00" + aad + iv + ct)                    # open
        out.append(b"\x01" + struct.pack(">I", seq) + b"\x04" + inner)  # seal, open
        out.append(b"\x02" + struct.pack(">I", seq) + plain)   # plaintext, open
        if inner[:1] == b"\x45":
            out.append(b"\x03" + inner)                         # Ping::parse
    return out


def main():
    sk_ei, sk_er = keys()
    pcap = open(os.path.join(DATA, "trace-server.pcap"), "rb").read()
    seeds = {"parse_message": [], "decrypt_sk": [], "parse_payload_chain": [],
             "spans": [], "notify_data": list(notify_layouts()),
             "esp": esp_seeds(), "byte_view": []}
    for sport, dport, payload in udp_datagrams(pcap):
        natt = 4500 in (sport, dport)
        ike = payload[4:] if natt else payload
        seeds["parse_message"].append(ike)
        mode = port_bits(sport) | port_bits(dport) << 2
        seeds["decrypt_sk"].append(bytes([mode]) + payload)
        seeds["spans"].append(ike)
        first = ike[16]
        if first != 46:  # unprotected: the outer chain
            seeds["parse_payload_chain"].append(bytes([first]) + ike[28:])
            seeds["spans"].append(bytes([first]) + ike[28:])
            seeds["byte_view"].append(b"\x00" + ike)
            for kind, data in notifies(first, ike[28:]):
                seeds["notify_data"].append(kind + data)
            continue
        # HDR | SK generic header | IV | ciphertext | ICV (RFC 5282)
        sk = ike[28:]
        inner_first = sk[0]
        key = sk_ei if ike[19] & 0x08 else sk_er
        aad = ike[:32]
        iv, ct, icv = sk[4:12], sk[12:-16], sk[-16:]
        plain = AESGCM(key[:-4]).decrypt(key[-4:] + iv, ct + icv, aad)
        seeds["decrypt_sk"].append(bytes([0x80, inner_first]) + plain)
        pad = plain[-1]
        seeds["parse_payload_chain"].append(
            bytes([inner_first]) + plain[:len(plain) - pad - 1])
        seeds["spans"].append(bytes([inner_first]) + plain)
        # byte_view key selector: 1 = SK_ei, 2 = SK_er.
        seeds["byte_view"].append(bytes([1 if ike[19] & 0x08 else 2]) + ike)
        seeds["byte_view"].append(bytes([0x80, inner_first]) + plain)
        for kind, data in notifies(inner_first, plain[:len(plain) - pad - 1]):
            seeds["notify_data"].append(kind + data)
    for target, inputs in seeds.items():
        d = os.path.join(HERE, target)
        os.makedirs(d, exist_ok=True)
        for s in inputs:
            name = hashlib.sha1(s).hexdigest()
            with open(os.path.join(d, name), "wb") as f:
                f.write(s)
        print(f"{target}: {len(set(inputs))} seeds")


if __name__ == "__main__":
    main()
