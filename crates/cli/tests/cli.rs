use std::process::Command;

fn mobike(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mobike"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap()
}

#[test]
fn run_prints_the_exchanges_of_the_default_scenario() {
    let out = mobike(&["run", "examples/wifi-to-lte.toml"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "IKE_SA_INIT request #0",
        "IKE_AUTH response #1",
        "N(UPDATE_SA_ADDRESSES)",
        "N(NAT_DETECTION_SOURCE_IP)",
        "N(NAT_DETECTION_DESTINATION_IP)",
        "N(COOKIE2)",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }
    // The UPDATE_SA_ADDRESSES travels in an INFORMATIONAL exchange.
    let upd = text.find("N(UPDATE_SA_ADDRESSES)").unwrap();
    let head = text[..upd].rfind("INFORMATIONAL request").unwrap();
    assert!(upd - head < 200);
}

#[test]
fn bad_file_is_a_clear_error_naming_the_place() {
    let dir = std::env::temp_dir().join(format!("mobike-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "version = 1\ntitle = \"x\"\nbogus = 3\n").unwrap();
    let out = mobike(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("bogus"), "{err}");
    let out = mobike(&["run", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn until_and_seed_options() {
    let a = mobike(&[
        "run",
        "examples/wifi-to-lte.toml",
        "--until",
        "1s",
        "--seed",
        "3",
    ]);
    assert!(a.status.success());
    let text = String::from_utf8(a.stdout).unwrap();
    assert!(text.contains("IKE_AUTH"));
    assert!(
        !text.contains("UPDATE_SA_ADDRESSES"),
        "the move happens after 12 s"
    );
}

#[test]
fn check_passes_the_examples_and_fails_a_wrong_expectation() {
    let out = mobike(&[
        "check",
        "examples/wifi-to-lte.toml",
        "examples/rfc4555-e1-mobility.toml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("13 of 13 expectations hold"), "{text}");
    let dir = std::env::temp_dir().join(format!("mobike-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/wifi-to-lte.toml"
    ))
    .unwrap();
    std::fs::write(
        &bad,
        base + "\n[[expect]]\nhost = \"laptop\"\nstate = \"deleted\"\n",
    )
    .unwrap();
    let out = mobike(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("FAIL  #7 laptop, state deleted: state is established"),
        "{text}"
    );
}

fn temp_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mobike-cli-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn export_mermaid_and_json_with_seed_and_until() {
    let dir = temp_dir("export");
    let mmd = dir.join("run.mmd");
    let json = dir.join("run.json");
    let out = mobike(&[
        "export",
        "examples/wifi-to-lte.toml",
        "--mermaid",
        mmd.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--seed",
        "3",
        "--until",
        "20s",
        "--esp",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = std::fs::read_to_string(&mmd).unwrap();
    assert!(m.contains("\nsequenceDiagram\n"), "{m}");
    assert!(m.contains("participant laptop as Laptop (initiator)"));
    assert!(m.contains("laptop-xgateway: "), "a lost request");
    assert!(m.contains("N(UPDATE_SA_ADDRESSES)"));
    assert!(m.contains("ICMP echo request"), "--esp shows the pings");
    let j = std::fs::read_to_string(&json).unwrap();
    assert!(j.contains("\"seed\": 3"), "--seed is in the document");
    assert!(
        j.contains("\"until\": 20000000"),
        "--until is in the document"
    );
    assert!(j.contains("\"format\": \"mobike-playground-run\""));

    // Without --esp (and with --no-keepalives) no ESP arrow.
    let out = mobike(&[
        "export",
        "examples/wifi-to-lte.toml",
        "--mermaid",
        mmd.to_str().unwrap(),
        "--no-keepalives",
    ]);
    assert!(out.status.success());
    let m = std::fs::read_to_string(&mmd).unwrap();
    assert!(!m.contains("ICMP echo"));
}

#[test]
fn run_writes_mermaid_and_json_too_and_prints_the_figures() {
    let dir = temp_dir("run");
    let mmd = dir.join("run.mmd");
    let json = dir.join("run.json");
    let out = mobike(&[
        "run",
        "examples/wifi-to-lte.toml",
        "--mermaid",
        mmd.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--until",
        "10s",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\nclient "), "{text}");
    assert!(text.contains("\nhost "), "{text}");
    assert!(text.contains("\ntotal "), "{text}");
    assert!(text.lines().all(|l| l.len() <= 72), "{text}");
    assert!(
        std::fs::read_to_string(&mmd)
            .unwrap()
            .contains("sequenceDiagram")
    );
    assert!(
        std::fs::read_to_string(&json)
            .unwrap()
            .contains("\"until\": 10000000")
    );
    // A bad --until is a clear error.
    let out = mobike(&["run", "examples/wifi-to-lte.toml", "--until", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("--until"));
}

#[test]
fn compare_puts_the_cluster_runs_side_by_side() {
    let out = mobike(&[
        "compare",
        "examples/cluster-20-mobike.toml",
        "examples/cluster-20-redirect.toml",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let row = |label: &str| -> Vec<u64> {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row {label}: {text}"))[label.len()..]
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect()
    };
    assert_eq!(row("clients"), vec![20, 20]);
    // Redirect builds a new IKE SA per client and deletes the old one:
    // more messages and octets than responder MOBIKE's one or two exchanges.
    let msgs = row("IKE messages");
    assert!(msgs[1] > msgs[0], "{text}");
    // Setup is 4 messages a client in both; the move 4 (list + update)
    // against 8 (redirect, IKE_SA_INIT, IKE_AUTH, Delete).
    assert_eq!(msgs, vec![20 * 8, 20 * 12]);
    assert_eq!(row("pings lost"), vec![0, 0]);
    // One file is no comparison.
    assert!(
        !mobike(&["compare", "examples/cluster-20-mobike.toml"])
            .status
            .success()
    );
}

/// `--set` changes a setting without editing the file; `FILE@key=value`
/// compares one file with itself under two settings.
#[test]
fn set_varies_a_setting_and_compare_takes_variants() {
    let strict = mobike(&["run", "examples/responder-moves-client.toml"]);
    let follow = mobike(&[
        "run",
        "examples/responder-moves-client.toml",
        "--set",
        "list_policy=follow",
    ]);
    assert!(strict.status.success() && follow.status.success());
    let (s, f) = (
        String::from_utf8(strict.stdout).unwrap(),
        String::from_utf8(follow.stdout).unwrap(),
    );
    assert_ne!(s, f, "the policy changes the run");
    // Follow: the laptop moves with the responder's list at once, without
    // an update of its own (RFC 4555 §3.5 leaves the choice open).
    assert!(s.contains("N(UPDATE_SA_ADDRESSES)"));
    assert!(f.contains("following to"), "{f}");
    // Per host, and the errors name what is wrong.
    let out = mobike(&[
        "run",
        "examples/wifi-to-lte.toml",
        "--set",
        "laptop.liveness_interval=3s",
    ]);
    assert!(out.status.success());
    for (arg, says) in [
        (
            "retransmit_tries=many",
            "expected u32 in `retransmit_tries`",
        ),
        ("colour=red", "unknown field `colour`"),
        ("nobody.liveness=false", "no host \"nobody\""),
        ("liveness", "write key=value"),
    ] {
        let out = mobike(&["run", "examples/wifi-to-lte.toml", "--set", arg]);
        assert_eq!(out.status.code(), Some(2), "{arg}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(says), "{arg}: {err}");
    }
    let out = mobike(&[
        "compare",
        "examples/responder-moves-client.toml@list_policy=strict",
        "examples/responder-moves-client.toml@list_policy=follow",
    ]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let first = table.lines().next().unwrap();
    assert!(first.contains("(list_policy=strict)") && first.contains("(list_policy=follow)"));
    let ike = table
        .lines()
        .find(|l| l.starts_with("IKE messages"))
        .unwrap();
    let n: Vec<u64> = ike
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(n.len(), 2);
    assert!(n[0] > n[1], "strict runs an update of its own: {ike}");
}

/// `compare --until` runs every scenario to that moment and prints each
/// client's recovery after the first trigger, the numbers of the figures
/// computed from the runs directly.
#[test]
fn compare_until_prints_each_clients_recovery() {
    use mobike_render::metrics;
    use mobike_sim::{Scenario, World};
    let files = [
        "examples/wifi-to-lte.toml",
        "examples/cluster-20-mobike.toml",
    ];
    let direct = |file: &str, until: u64| {
        let path = format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR"));
        let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut w = World::new(&s);
        w.run_until(until);
        metrics::compute(w.trace())
    };
    let t = |x: Option<u64>| x.map_or("-".to_string(), mobike_render::fmt_time);
    // 30 s is past wifi-to-lte's own end (25 s); 14 s is after its Wi-Fi
    // break (12 s) and before the laptop has moved.
    for (until, micros) in [("30s", 30_000_000), ("14s", 14_000_000)] {
        let out = mobike(&["compare", files[0], files[1], "--until", until]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let row = |label: &str| -> Vec<String> {
            text.lines()
                .find(|l| l.starts_with(label))
                .unwrap_or_else(|| panic!("no row {label:?}: {text}"))[label.len()..]
                .split_whitespace()
                .map(String::from)
                .collect()
        };
        let ms = [direct(files[0], micros), direct(files[1], micros)];
        assert_eq!(
            row("pings sent"),
            ms.iter()
                .map(|m| m.pings_sent.to_string())
                .collect::<Vec<_>>(),
            "--until {until}"
        );
        for (k, m) in ms.iter().enumerate() {
            let first = m.triggers.first().expect("a trigger before 14 s");
            assert_eq!(
                row("first trigger at")[k],
                mobike_render::fmt_time(first.time)
            );
            for c in &m.clients {
                let r = first
                    .recoveries
                    .iter()
                    .find(|r| r.client == c.node)
                    .unwrap();
                assert_eq!(
                    row(&format!("{}: SAs moved after", c.node))[k],
                    t(r.path_changed_after),
                    "--until {until}"
                );
                assert_eq!(
                    row(&format!("{}: ping ok after", c.node))[k],
                    t(r.ping_answered_after),
                    "--until {until}"
                );
            }
            // A client only the other run has.
            let other = &ms[1 - k].clients[0].node;
            assert_eq!(row(&format!("{other}: ping ok after"))[k], "n/a");
        }
        let laptop = row("laptop: SAs moved after");
        if until == "14s" {
            assert_eq!(laptop[0], "-", "not moved 2 s after the break: {text}");
        } else {
            assert!(laptop[0].ends_with('s') && laptop[0] != "-", "{text}");
        }
        assert_eq!(row("client-20: ping ok after")[0], "n/a");
    }
    // 25 s is wifi-to-lte's own end: --until at it changes nothing.
    let own = mobike(&["compare", files[0], "examples/nat-rebinding.toml"]);
    let at = mobike(&[
        "compare",
        files[0],
        "examples/nat-rebinding.toml",
        "--until",
        "25s",
    ]);
    assert_eq!(own.stdout, at.stdout);
    let bad = mobike(&["compare", files[0], files[1], "--until", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("--until"));
}

#[test]
fn chart_filter_flags_draw_what_the_page_filter_shows() {
    let dir = temp_dir("filter");
    let (txt, svg) = (dir.join("run.txt"), dir.join("run.svg"));
    let export = |extra: &[&str]| {
        let mut args = vec![
            "export",
            "examples/cluster-20-redirect.toml",
            "--until",
            "40s",
            "--ascii",
            txt.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = mobike(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            std::fs::read_to_string(&txt).unwrap(),
            std::fs::read_to_string(&svg).unwrap(),
        )
    };
    let (all, all_svg) = export(&[]);
    assert!(all.contains("IKE_SA_INIT") && all.contains("Client 7 ->"));
    // --hide takes exchanges and kinds of row, as the chart toolbar's chips.
    let (no_init, _) = export(&["--hide", "ike_sa_init,narration"]);
    assert!(!no_init.contains("IKE_SA_INIT"), "{no_init}");
    assert!(no_init.contains("IKE_AUTH"));
    // --host keeps the rows of one host; a group's key keeps its members'.
    let (one, _) = export(&["--host", "client-7"]);
    assert!(
        one.contains("Client 7 ->") && !one.contains("Client 8 ->"),
        "{one}"
    );
    let (group, _) = export(&["--host", "group:client"]);
    assert!(group.contains("Client 8 ->"));
    // --fold-groups draws the 20 clients as one lane, as the page does.
    let (_, folded) = export(&["--fold-groups"]);
    let lanes = |s: &str| s.matches(r#"<line class="lane""#).count();
    assert!(lanes(&folded) < lanes(&all_svg), "{} lanes", lanes(&folded));
    let (_, expanded) = export(&["--fold-groups", "--expand-group", "client"]);
    assert_eq!(lanes(&expanded), lanes(&all_svg));
    // Mistakes name the flag and the choices.
    let out = mobike(&["run", "examples/wifi-to-lte.toml", "--hide", "ikesa"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--hide") && err.contains("ike_sa_init"),
        "{err}"
    );
    let out = mobike(&["run", "examples/wifi-to-lte.toml", "--host", "nobody"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("laptop"), "{err}");
}

/// `mobike import` opens the reference strongSwan capture with its key
/// table, prints the decrypted chart and writes the parties' scenario; a
/// file that is no capture is exit status 2 with its name.
#[test]
fn import_opens_a_real_capture() {
    let data = "crates/wire/tests/data/strongswan-mobike-basic";
    let dir = std::env::temp_dir().join(format!("mobike-cli-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("parties.toml");
    let out = mobike(&[
        "import",
        &format!("{data}/trace-server.pcap"),
        "--keys",
        &format!("{data}/keys"),
        "--scenario",
        toml.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("client.oracle.test (initiator)"), "{text}");
    assert!(text.contains("N(UPDATE_SA_ADDRESSES)"));
    assert!(!text.contains("SK {...}"), "every message decrypts");
    let parties = std::fs::read_to_string(&toml).unwrap();
    assert!(parties.contains("198.51.100.10"));
    let out = mobike(&["import", &format!("{data}/msc.txt")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("msc.txt: not a pcap or pcapng file"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
