//! Wireshark agrees with us: every example is exported as a pcap (captured at
//! each host) with the Wireshark key files, and tshark must decrypt every IKE
//! message with a correct ICV, decode every ESP packet to the ping inside,
//! find nothing malformed, and list the same notify types we sent.
//!
//! tshark comes from Debian's package (the README's test command installs
//! it). Without it this test fails, naming what is missing.

use mobike_protocol::{Event, IpProtocol};
use mobike_render::pcap;
use mobike_sim::{Scenario, TraceKind, World};
use mobike_wire::crypto::IkeKeys;
use mobike_wire::message::{Message, decrypt};
use mobike_wire::payload::Payload;
use mobike_wire::udp::{UdpPayload, classify};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn tshark(dir: &Path, pcap: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .env("WIRESHARK_CONFIG_DIR", dir)
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .expect("tshark is not installed: run scripts/setup.sh --test (Debian package tshark)");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Notify types of each IKE frame the capture at `node` holds, in order,
/// decoded our way.
fn our_notifies(trace: &mobike_sim::Trace, node: &str) -> Vec<(bool, Option<Vec<u16>>)> {
    let mut keys: HashMap<u64, IkeKeys> = HashMap::new();
    let mut sent: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut frames = Vec::new();
    for e in trace.iter() {
        if let Some((_, Event::KeysDerived { spi_i, keys: k, .. })) = e.kind.protocol() {
            keys.entry(*spi_i).or_insert_with(|| (**k).clone());
            continue;
        }
        let bytes = match &e.kind {
            TraceKind::Sent {
                packet,
                node: n,
                src,
                payload,
                protocol,
                ..
            } => {
                if *protocol == IpProtocol::Udp
                    && let UdpPayload::Ike(b) = classify(payload, src.port())
                {
                    sent.insert(*packet, b.to_vec());
                }
                if n != node {
                    continue;
                }
                sent.get(packet).cloned()
            }
            TraceKind::Delivered {
                packet, node: n, ..
            } if n == node => sent.get(packet).cloned(),
            _ => continue,
        };
        let Some(b) = bytes else { continue };
        let m = Message::parse(&b).unwrap();
        let mut types: Vec<u16> = m.notifies().map(|n| n.kind.value()).collect();
        let protected = m.payloads.iter().any(|p| matches!(p, Payload::Sk { .. }));
        if protected {
            let k = &keys[&m.header.spi_i];
            let key = if m.header.flags.initiator() {
                &k.sk_ei
            } else {
                &k.sk_er
            };
            match decrypt(&b, key) {
                Ok(inner) => types.extend(
                    inner
                        .iter()
                        .filter_map(Payload::as_notify)
                        .map(|n| n.kind.value()),
                ),
                // A forgery (an attacker's made-up key): tshark must call
                // its ICV incorrect too.
                Err(_) => {
                    frames.push((protected, None));
                    continue;
                }
            }
        }
        frames.push((protected, Some(types)));
    }
    frames
}

#[test]
fn tshark_decrypts_and_agrees_on_every_example() {
    let base = std::env::temp_dir().join(format!("mobike-tshark-{}", std::process::id()));
    let mut checked = 0;
    for path in examples() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut w = World::new(&s);
        w.run_until(s.until.micros());
        let dir = base.join(&name);
        pcap::write_wireshark_dir(&dir, w.trace()).unwrap();
        // Big scenarios (a cluster's 20 clients): the first two hosts and
        // the last two are enough.
        let n = s.hosts.len();
        for host in s
            .hosts
            .iter()
            .enumerate()
            .filter(|(i, _)| n <= 4 || *i < 2 || *i >= n - 2)
            .map(|(_, h)| h)
        {
            let file = dir.join(format!("{}.pcap", host.id));
            std::fs::write(&file, pcap::capture(w.trace(), &host.id)).unwrap();
            let ctx = format!("{name}, captured at {}", host.id);

            // One full decode and one field listing per capture.
            let verbose = tshark(&dir, &file, &["-V"]);
            assert!(
                !verbose.contains("Malformed Packet") && !verbose.contains("[Expert Info (Error"),
                "{ctx}: tshark found malformed packets"
            );

            // Every protected IKE message: ICV correct, except forgeries,
            // which we reject too.
            let ours = our_notifies(w.trace(), &host.id);
            let forged = ours.iter().filter(|(p, t)| *p && t.is_none()).count();
            let icvs = verbose.matches("Integrity Checksum Data: ").count();
            let ok = verbose
                .lines()
                .filter(|l| l.contains("Integrity Checksum Data: ") && l.ends_with("[correct]"))
                .count();
            assert_eq!(
                ok + forged,
                icvs,
                "{ctx}: ICVs [correct] but for the forgeries"
            );

            // Notify types per IKE frame, tshark's view against ours.
            let fields = tshark(
                &dir,
                &file,
                &[
                    "-Y",
                    "isakmp",
                    "-T",
                    "fields",
                    "-e",
                    "isakmp.notify.msgtype",
                ],
            );
            let theirs: Vec<Vec<u16>> = fields
                .lines()
                .map(|l| {
                    l.split(',')
                        .filter(|x| !x.is_empty())
                        .map(|x| x.trim().parse().unwrap())
                        .collect()
                })
                .collect();
            assert_eq!(theirs.len(), ours.len(), "{ctx}: IKE frames");
            for (k, (t, (_, o))) in theirs.iter().zip(&ours).enumerate() {
                if let Some(o) = o {
                    assert_eq!(t, o, "{ctx}: notify types differ in IKE frame {k}");
                }
            }
            let protected = ours.iter().filter(|(p, t)| *p && t.is_some()).count();
            assert_eq!(
                ok, protected,
                "{ctx}: every protected message checked, [correct]"
            );

            // Every ESP packet opens to the ping inside.
            let esp = verbose.matches("\nEncapsulating Security Payload").count();
            let icmp = verbose
                .matches("\nInternet Control Message Protocol")
                .count();
            assert_eq!(esp, icmp, "{ctx}: ESP that tshark could not decrypt");
            let pings_here = s.ping.as_ref().is_some_and(|p| {
                host.id == p.to || host.id == p.from || host.id.starts_with(&format!("{}-", p.from))
            });
            assert!(!pings_here || icmp > 0, "{ctx}: no ping in the tunnel");
            checked += ours.len();
        }
    }
    assert!(checked > 0);
}

/// The page's one download, the zip: unpacked into a folder it holds the
/// very capture and key files the CLI writes, and tshark decrypts with it.
#[test]
fn the_zip_unpacked_is_the_capture_and_the_keys_tshark_decrypts_with() {
    use std::io::Read;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/wifi-to-lte.toml");
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let zip = pcap::wireshark_zip(w.trace(), "gateway");
    assert_eq!(
        zip,
        pcap::wireshark_zip(w.trace(), "gateway"),
        "same octets"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let dir = std::env::temp_dir().join(format!("mobike-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let name = f.name().unwrap().to_string();
        std::fs::write(dir.join(&name), &data).unwrap();
        names.push(name);
    }
    assert_eq!(
        names,
        [
            "capture.pcap",
            "ikev2_decryption_table",
            "esp_sa",
            "preferences"
        ]
    );
    assert_eq!(
        std::fs::read(dir.join("capture.pcap")).unwrap(),
        pcap::capture(w.trace(), "gateway")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("esp_sa")).unwrap(),
        pcap::esp_sa(w.trace())
    );
    let verbose = tshark(&dir, &dir.join("capture.pcap"), &["-V"]);
    let icvs = verbose.matches("Integrity Checksum Data: ").count();
    assert!(icvs > 0);
    assert_eq!(
        verbose
            .lines()
            .filter(|l| l.contains("Integrity Checksum Data: ") && l.ends_with("[correct]"))
            .count(),
        icvs
    );
    assert!(
        verbose.contains("\nInternet Control Message Protocol"),
        "ESP decrypted"
    );
}
