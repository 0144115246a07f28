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
