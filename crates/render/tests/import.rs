//! `mobike import`: a real strongSwan capture (the reference run copied in
//! `crates/wire/tests/data/strongswan-mobike-basic/`) opened as a run, its
//! keys from Wireshark's table or charon's log; our own exports read back
//! in every link type; bad captures and key files refused with the place.

use mobike_render::chart::{Row, What};
use mobike_render::import::{ImportError, KeyEntry, import, read_keys};
use mobike_render::{Chart, pcap};
use mobike_sim::{Scenario, World};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use std::time::Duration;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../wire/tests/data/strongswan-mobike-basic"
);

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(data(name)).unwrap()
}

fn chart_of(capture: &[u8], keys: &[KeyEntry]) -> Chart {
    let got = import("capture.pcap", capture, keys).unwrap();
    let s = got.observed.scenario().unwrap();
    Chart::build(&s, got.observed.trace())
}

/// One line of `msc.txt`: addresses, exchange, response, message ID and
/// the notify names in order.
struct MscLine {
    src: String,
    dst: String,
    exchange: String,
    response: bool,
    mid: u32,
    notifies: Vec<String>,
}

fn msc() -> Vec<MscLine> {
    text("msc.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            MscLine {
                src: w[2].into(),
                dst: w[4].into(),
                exchange: w[6].into(),
                response: w[7] == "response",
                mid: w[8].trim_start_matches("mid=").parse().unwrap(),
                notifies: notify_names(l),
            }
        })
        .collect()
}

fn notify_names(s: &str) -> Vec<String> {
    s.split("N(")
        .skip(1)
        .map(|n| {
            n.chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect()
        })
        .collect()
}

/// Every IKE message of the capture is a row, in order, with strongSwan's
/// own record of it: addresses, exchange, message ID and the notifies
/// inside the SK payload, decrypted with the keys.
fn assert_matches_msc(chart: &Chart) {
    let rows: Vec<_> = chart
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    let want = msc();
    assert_eq!(rows.len(), want.len(), "one row per IKE message");
    for (m, w) in rows.iter().zip(&want) {
        let What::Ike {
            exchange,
            mid,
            response,
            error,
            ..
        } = &m.what
        else {
            panic!("row {} is not IKE", m.packet);
        };
        assert_eq!(error, &None, "message {mid} decrypts");
        assert_eq!(exchange, &w.exchange);
        assert_eq!(*mid, w.mid);
        assert_eq!(*response, w.response);
        assert_eq!(m.src.to_string(), w.src);
        assert_eq!(m.dst.to_string(), w.dst);
        assert_eq!(
            notify_names(&m.notation()),
            w.notifies,
            "notifies of {exchange} {mid}"
        );
    }
}

#[test]
fn the_strongswan_capture_opens_with_wiresharks_key_table() {
    let keys = read_keys("keys", &text("keys")).unwrap();
    assert_eq!(keys.len(), 1);
    let got = import("trace-server.pcap", &data("trace-server.pcap"), &keys).unwrap();
    assert_eq!(
        (got.frames, got.datagrams, got.ike_sas, got.keyed),
        (20, 14, 1, 1)
    );
    // The parties are named by the identities they showed in IKE_AUTH, and
    // the initiator has both of its addresses.
    let parties = got.observed.parties();
    assert_eq!(parties[0].identity.as_deref(), Some("client.oracle.test"));
    assert_eq!(parties[1].identity.as_deref(), Some("server.oracle.test"));
    let addrs: Vec<String> = parties[0].addresses.iter().map(|a| a.to_string()).collect();
    assert_eq!(addrs, ["192.0.2.10", "198.51.100.10"]);
    assert_matches_msc(&chart_of(&data("trace-server.pcap"), &keys));
}

#[test]
fn charons_log_gives_the_same_keys() {
    let keys = read_keys(
        "client-charon-keying.log",
        &text("client-charon-keying.log"),
    )
    .unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].spis.is_none(), "charon's key lines name no SPIs");
    assert_matches_msc(&chart_of(&data("trace-server.pcap"), &keys));
}

#[test]
fn without_keys_the_protected_payloads_stay_closed() {
    let chart = chart_of(&data("trace-server.pcap"), &[]);
    let auth = chart
        .rows
        .iter()
        .find_map(|r| match r {
            Row::Message(m) if matches!(&m.what, What::Ike { exchange, .. } if exchange == "IKE_AUTH") => {
                Some(m)
            }
            _ => None,
        })
        .unwrap();
    assert!(auth.notation().contains("SK {...}"), "{}", auth.notation());
}

/// A simulated run exported at the gateway, with its key table, read back:
/// the same IKE messages, decrypted, whatever the link type or file format.
/// An example run to its end, captured at the gateway, with the key table
/// the export writes.
fn own_capture(example: &str) -> (Vec<u8>, Vec<KeyEntry>) {
    let s = Scenario::from_toml(example).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let raw = pcap::capture(w.trace(), "gateway");
    let keys = read_keys(
        "ikev2_decryption_table",
        &pcap::ikev2_decryption_table(w.trace()),
    )
    .unwrap();
    (raw, keys)
}

#[test]
fn our_own_capture_reads_back_in_every_link_type() {
    let (raw, keys) = own_capture(include_str!("../../../examples/wifi-to-lte.toml"));
    let base = chart_of(&raw, &keys);
    let ike = |c: &Chart| -> Vec<String> {
        c.rows
            .iter()
            .filter_map(|r| match r {
                Row::Message(m) if matches!(m.what, What::Ike { .. }) => Some(m.notation()),
                _ => None,
            })
            .collect()
    };
    let want = ike(&base);
    assert!(want.len() >= 10, "{} IKE messages", want.len());
    assert!(want.iter().all(|n| !n.contains("SK {...}")), "all decrypt");
    assert!(
        want.iter().any(|n| n.contains("UPDATE_SA_ADDRESSES")),
        "the move is in it"
    );
    // Frames of raw IP, wrapped as Ethernet, Linux cooked v1 and v2, and
    // written as pcapng.
    let mut r = PcapReader::new(&raw[..]).unwrap();
    let mut frames = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        frames.push((p.timestamp, p.data.into_owned()));
    }
    let wrap = |link: DataLink, head: &dyn Fn(&[u8]) -> Vec<u8>| {
        let mut out = PcapWriter::with_header(
            Vec::new(),
            PcapHeader {
                datalink: link,
                ..Default::default()
            },
        )
        .unwrap();
        for (t, d) in &frames {
            let mut f = head(d);
            f.extend_from_slice(d);
            out.write_packet(&PcapPacket::new(*t, f.len() as u32, &f))
                .unwrap();
        }
        out.into_writer()
    };
    let ethernet = wrap(DataLink::ETHERNET, &|_| {
        let mut h = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        h.extend_from_slice(&[0x08, 0x00]);
        h
    });
    let sll = wrap(DataLink::LINUX_SLL, &|_| {
        let mut h = vec![0u8; 14];
        h.extend_from_slice(&[0x08, 0x00]);
        h
    });
    let sll2 = wrap(DataLink::LINUX_SLL2, &|_| {
        let mut h = vec![0x08, 0x00];
        h.extend_from_slice(&[0u8; 18]);
        h
    });
    for (name, file) in [("Ethernet", &ethernet), ("SLL", &sll), ("SLL2", &sll2)] {
        assert_eq!(ike(&chart_of(file, &keys)), want, "{name}");
    }
    let mut ng = pcap_file::pcapng::PcapNgWriter::new(Vec::new()).unwrap();
    ng.write_pcapng_block(
        pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: 0,
            options: vec![],
        },
    )
    .unwrap();
    for (t, d) in &frames {
        ng.write_pcapng_block(
            pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock {
                interface_id: 0,
                timestamp: *t,
                original_len: d.len() as u32,
                data: std::borrow::Cow::Borrowed(d),
                options: vec![],
            },
        )
        .unwrap();
    }
    assert_eq!(ike(&chart_of(&ng.into_inner(), &keys)), want, "pcapng");
}

fn error(capture: &[u8], keys: &[KeyEntry]) -> ImportError {
    match import("bad.pcap", capture, keys) {
        Ok(_) => panic!("imported"),
        Err(e) => e,
    }
}

#[test]
fn bad_captures_are_refused_with_the_place() {
    let e = error(b"version = 1\ntitle = \"a scenario\"\n", &[]);
    assert!(e.message.contains("not a pcap or pcapng file"), "{e}");
    // Cut in the middle of its fifth frame.
    let good = data("trace-server.pcap");
    let mut r = PcapReader::new(&good[..]).unwrap();
    let mut end = 24;
    for _ in 0..4 {
        let p = r.next_packet().unwrap().unwrap();
        end += 16 + p.data.len();
    }
    let e = error(&good[..end + 30], &[]);
    assert_eq!(e.place.as_deref(), Some("frame 5"), "{e}");
    // A link type that is not read.
    let mut w = PcapWriter::with_header(
        Vec::new(),
        PcapHeader {
            datalink: DataLink::IEEE802_11,
            ..Default::default()
        },
    )
    .unwrap();
    w.write_packet(&PcapPacket::new(Duration::ZERO, 4, &[1, 2, 3, 4]))
        .unwrap();
    let e = error(&w.into_writer(), &[]);
    assert!(e.message.contains("is not read"), "{e}");
    // Nothing but the 24-octet header: no IKE at all.
    let e = error(&good[..24], &[]);
    assert!(e.message.contains("no IKE message"), "{e}");
}

#[test]
fn bad_key_files_are_refused_with_the_line() {
    let e = read_keys("keys", "# comment\n0011,0022\n").unwrap_err();
    assert_eq!(e.place.as_deref(), Some("line 2"), "{e}");
    let e = read_keys(
        "keys",
        "9732dff05cbef893,91d70a7fafbf4620,e713,e890,\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,\"NONE\"\n",
    )
    .unwrap_err();
    assert!(e.message.contains("SK_ei has 2 octets"), "{e}");
    let e = read_keys(
        "keys",
        "zz32dff05cbef893,91d70a7fafbf4620,e713374cc40b0c96a0ec34cbc06bce8c904e60fb,e890ba8deab0b5ed4ec34b86903a5abd603df275,,,,\n",
    )
    .unwrap_err();
    assert!(e.message.contains("SPIi"), "{e}");
    let e = read_keys("empty", "\n# nothing\n").unwrap_err();
    assert!(e.message.contains("no keys"), "{e}");
}

/// A `pcap_import` fuzz input imported as the target does: the key file's
/// text, 0xff 0x00, the capture.
fn fuzz_input(data: &[u8]) -> mobike_render::import::Imported {
    let split = data.windows(2).position(|w| w == [0xff, 0x00]);
    let (keys, capture) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (&data[..0], data),
    };
    let keys = read_keys("keys", &String::from_utf8_lossy(keys)).unwrap_or_default();
    import("capture.pcap", capture, &keys).unwrap()
}

/// Found by the fuzzer (`pcap_import`): frames whose timestamps lie
/// decades apart made a scenario whose `until` was out of range, so the
/// import failed after it had read the capture. They are drawn a year
/// after the first frame at most, and the capture opens.
#[test]
fn damaged_timestamps_years_apart_still_open() {
    let data = include_bytes!("data/fuzz-timestamps-years-apart.bin");
    let got = fuzz_input(data);
    assert!(got.observed.end() <= 365 * 24 * 3600 * 1_000_000);
    assert!(
        got.skipped.iter().any(|s| s.contains("more than a year")),
        "{:?}",
        got.skipped
    );
    got.observed
        .scenario()
        .expect("the parties' scenario reads");
}

/// Found by the fuzzer (`pcap_import`): one address seen as both an
/// initiator's and a responder's (damaged flags) was given to both
/// parties, and their scenario had the address twice. An address now
/// belongs to the first party seen with it.
#[test]
fn an_address_seen_on_both_sides_belongs_to_one_party() {
    let data = include_bytes!("data/fuzz-address-in-two-parties.bin");
    let got = fuzz_input(data);
    let mut all: Vec<_> = got
        .observed
        .parties()
        .iter()
        .flat_map(|p| p.addresses.clone())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "no address in two parties");
    let s = got
        .observed
        .scenario()
        .expect("the parties' scenario reads");
    Chart::build(&s, got.observed.trace());
}

/// Found by the fuzzer (`pcap_import`): a party's second link was named
/// "initiator-2", the id of the second initiator party, and the scenario
/// had that id twice. Links are named "<party>-link<k>" now.
#[test]
fn link_ids_never_collide_with_party_ids() {
    let data = include_bytes!("data/fuzz-link-named-as-a-party.bin");
    let got = fuzz_input(data);
    let s = got
        .observed
        .scenario()
        .expect("the parties' scenario reads");
    Chart::build(&s, got.observed.trace());
}

/// Found by the fuzzer (`pcap_import`, after 6.3 million executions): the
/// initiator's IKE_SA_INIT went from the address the responder answered
/// from, so that address became the initiator's and the responder had
/// none; the initiator was written without a `peer` and the scenario did
/// not read. An initiator without a responder address to name now names
/// its own first address (drawing only: a capture is never simulated).
#[test]
fn an_initiator_whose_responder_has_no_address_still_names_a_peer() {
    let data = include_bytes!("data/fuzz-responder-without-address.bin");
    let got = fuzz_input(data);
    let s = got
        .observed
        .scenario()
        .expect("the parties' scenario reads");
    let init = s
        .hosts
        .iter()
        .find(|h| h.role == mobike_protocol::Role::Initiator)
        .unwrap();
    assert_eq!(init.peer, Some(init.interfaces[0].address));
    Chart::build(&s, got.observed.trace());
}

/// A capture where the gateway (the IKE SA's responder) rekeys the IKE SA:
/// the new IKE SA's I flag is the gateway's (RFC 7296 §2.18), yet the
/// import keeps the two parties it saw set the first one up, and draws
/// every message from the side that sent it.
#[test]
fn a_rekey_by_the_responder_keeps_the_parties_apart() {
    let (raw, keys) = own_capture(include_str!("../../../examples/rekey-after-move.toml"));
    let chart = chart_of(&raw, &keys);
    let lanes: Vec<&str> = chart.lanes.iter().map(|l| l.role.as_str()).collect();
    assert_eq!(lanes.len(), 2, "two parties: {:?}", chart.lanes);
    // The gateway's address is only ever the responder's lane.
    let gateway = "203.0.113.10".parse::<std::net::IpAddr>().unwrap();
    let mut from_gateway = 0;
    for r in &chart.rows {
        if let Row::Message(m) = r
            && matches!(m.what, What::Ike { .. })
        {
            let lane = &chart.lanes[m.from];
            assert_eq!(
                m.src.ip() == gateway,
                lane.role.starts_with("responder"),
                "{} from {} drawn on {lane:?}",
                m.notation(),
                m.src
            );
            from_gateway += usize::from(m.src.ip() == gateway);
        }
    }
    assert!(from_gateway > 5);
    // And every message decrypts, the rekeyed IKE SA's too.
    assert!(chart.rows.iter().all(|r| match r {
        Row::Message(m) => !m.notation().contains("SK {...}"),
        _ => true,
    }));
}
