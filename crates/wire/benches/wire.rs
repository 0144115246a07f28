//! Benchmarks of the wire crate's hot paths: sealing and opening the MOBIKE
//! UPDATE_SA_ADDRESSES request (RFC 4555 §3.5), and the key derivation that
//! follows IKE_SA_INIT (x25519, RFC 8031; SKEYSEED and prf+, RFC 7296 §2.14).
//!
//! Run with `cargo bench -p mobike-wire`; criterion's command line options
//! follow `--`, e.g. `cargo bench -p mobike-wire -- --measurement-time 10`.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mobike_wire::crypto::{self, GcmKey, IkeKeys, X25519};
use mobike_wire::message::{self, Message};
use mobike_wire::payload::{Notify, Payload};
use mobike_wire::{ExchangeType, Flags, Header, NotifyType, PayloadType};

// The SPIs of the strongSwan run in tests/data/strongswan-mobike-basic.
const SPI_I: u64 = 0x9732_dff0_5cbe_f893;
const SPI_R: u64 = 0x91d7_0a7f_afbf_4620;

/// HDR, SK {N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP),
/// N(NAT_DETECTION_DESTINATION_IP), N(COOKIE2), N(NO_ADDITIONAL_ADDRESSES)}:
/// the header and inner payloads of the update strongSwan sent from its new
/// address (msc.txt, mid=3; 153 octets on the wire).
fn update_sa_addresses() -> (Header, Vec<Payload>) {
    let src: SocketAddr = "198.51.100.10:4500".parse().expect("address");
    let dst: SocketAddr = "203.0.113.10:4500".parse().expect("address");
    let header = Header {
        spi_i: SPI_I,
        spi_r: SPI_R,
        next_payload: PayloadType::SK,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags::new(true, false),
        message_id: 3,
        length: 0,
    };
    let inner = vec![
        Payload::Notify(Notify::empty(NotifyType::UPDATE_SA_ADDRESSES)),
        Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            crypto::nat_detection_hash(SPI_I, SPI_R, src).to_vec(),
        )),
        Payload::Notify(Notify::new(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            crypto::nat_detection_hash(SPI_I, SPI_R, dst).to_vec(),
        )),
        Payload::Notify(Notify::new(NotifyType::COOKIE2, vec![0x18; 16])),
        Payload::Notify(Notify::empty(NotifyType::NO_ADDITIONAL_ADDRESSES)),
    ];
    (header, inner)
}

fn sk_ei() -> GcmKey {
    GcmKey::from_keymat(&[0x5a; 20]).expect("AES-128 key and salt")
}

fn update_sa_addresses_benches(c: &mut Criterion) {
    let (header, inner) = update_sa_addresses();
    let key = sk_ei();
    let iv = [0, 0, 0, 0, 0, 0, 0, 3];
    let bytes = Message::emit_encrypted(header, &inner, &key, iv).expect("seals");
    assert_eq!(bytes.len(), 153, "same size as strongSwan's update");
    assert_eq!(message::decrypt(&bytes, &key).expect("opens"), inner);

    let mut g = c.benchmark_group("update_sa_addresses");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    // (a) Emit the payload chain and seal it in the SK payload. The IV is
    // fixed only because nothing here leaves the process.
    g.bench_function("emit_encrypted", |b| {
        b.iter(|| {
            Message::emit_encrypted(black_box(header), black_box(&inner), &key, black_box(iv))
                .expect("seals")
        })
    });
    // (b) Parse the message, verify the ICV, decrypt and parse the inner chain.
    g.bench_function("parse_decrypt", |b| {
        b.iter(|| {
            let m = Message::parse(black_box(&bytes)).expect("parses");
            let inner = message::decrypt(black_box(&bytes), &key).expect("opens");
            (m, inner)
        })
    });
    g.finish();
}

fn key_derivation_benches(c: &mut Criterion) {
    let ours = X25519::from_seed([0x11; 32]);
    let peer_public = X25519::from_seed([0x22; 32]).public();
    let ni = [0x33u8; 32];
    let nr = [0x44u8; 32];

    let mut g = c.benchmark_group("key_derivation");
    // (c) What the initiator does on the IKE_SA_INIT response: g^ir, then
    // SKEYSEED and SK_d | SK_ei | SK_er | SK_pi | SK_pr (AES-128-GCM suite).
    g.bench_function("x25519_and_ike_keys", |b| {
        b.iter(|| {
            let shared = ours
                .shared_secret(black_box(&peer_public))
                .expect("not low order");
            IkeKeys::derive(&ni, &nr, &shared, SPI_I, SPI_R, 16).expect("derive")
        })
    });
    // The two parts on their own, to see where the time goes.
    g.bench_function("x25519_shared_secret", |b| {
        b.iter(|| {
            ours.shared_secret(black_box(&peer_public))
                .expect("not low order")
        })
    });
    let shared = ours.shared_secret(&peer_public).expect("not low order");
    g.bench_function("ike_keys_derive", |b| {
        b.iter(|| IkeKeys::derive(&ni, &nr, black_box(&shared), SPI_I, SPI_R, 16).expect("derive"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Short runs: these are quick, stable operations and the machine is shared.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = update_sa_addresses_benches, key_derivation_benches
}
criterion_main!(benches);
