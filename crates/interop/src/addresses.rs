//! The host's addresses, as the OS reports them: `ip -o address show`, read
//! again every few hundred milliseconds. Polling keeps this std-only (no
//! netlink socket), and an IKE daemon reacting within a poll period is
//! what strongSwan does too (it acts about 100 ms after a change).

use std::net::IpAddr;
use std::process::Command;

/// Every address `ip -o address show` lists, but tentative and
/// duplicate-detected IPv6 ones (not usable yet).
pub fn system_addresses() -> Result<Vec<IpAddr>, String> {
    let out = Command::new("ip")
        .args(["-o", "address", "show"])
        .output()
        .map_err(|e| format!("cannot run `ip -o address show` to watch addresses: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip -o address show` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

/// The addresses of `ip -o address show`'s lines.
pub fn parse(text: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.iter().any(|w| *w == "tentative" || *w == "dadfailed") {
            continue;
        }
        let Some(k) = words.iter().position(|w| *w == "inet" || *w == "inet6") else {
            continue;
        };
        let Some(cidr) = words.get(k + 1) else {
            continue;
        };
        let addr = cidr.split('/').next().unwrap_or(cidr);
        if let Ok(a) = addr.parse::<IpAddr>()
            && !found.contains(&a)
        {
            found.push(a);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ip_o_address_show() {
        let text = "\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: c0    inet 192.0.2.10/24 scope global c0\\       valid_lft forever preferred_lft forever
3: c1    inet 198.51.100.10/24 brd 198.51.100.255 scope global c1\\       valid_lft forever
3: c1    inet6 2001:db8::10/64 scope global tentative \\       valid_lft forever
3: c1    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
";
        let got: Vec<String> = parse(text).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["127.0.0.1", "192.0.2.10", "198.51.100.10", "fe80::1"]);
    }
}
