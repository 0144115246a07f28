//! A versioned JSON document of a run (`mobike export --json`): the
//! scenario's title, seed and end time, the lanes, every chart row
//! (messages with times, addresses, NAT translation, RFC notation, the
//! decrypted payloads and why a message was lost; protocol notes;
//! interventions), the run's figures and each host's IKE SAs at the end.
//! docs/json-export.md describes the shape; [`FORMAT_VERSION`] changes when
//! a field changes meaning or goes away (new fields may appear without).

use crate::chart::{Chart, Lane, MessageRow, NoteKind, Row, What};
use crate::inspect;
use crate::metrics::Metrics;
use mobike_protocol::{SaSnapshot, Time};
use mobike_sim::{Scenario, WorldRead};
use serde::Serialize;
use std::net::SocketAddr;

/// The `format` field: what the document is.
pub const FORMAT: &str = "mobike-playground-run";
/// The `version` field.
pub const FORMAT_VERSION: u32 = 1;

/// The whole document.
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    pub format: &'static str,
    pub version: u32,
    pub scenario: ScenarioInfo,
    pub lanes: Vec<Lane>,
    pub rows: Vec<JsonRow>,
    pub metrics: Metrics,
    /// Every host as the run left it, in the scenario's order.
    pub hosts: Vec<HostState>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioInfo {
    pub title: String,
    pub seed: u64,
    /// Where the run stopped, in microseconds (the scenario's `until` or
    /// the `--until` given).
    pub until: Time,
    /// The same, as "25.000s".
    pub until_text: String,
}

/// One row of the chart, in time order.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "row", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // as in the chart: most rows are messages
pub enum JsonRow {
    Message(JsonMessage),
    Note(JsonNote),
    Intervention(JsonIntervention),
}

/// A datagram on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct JsonMessage {
    /// Its number in the trace.
    pub packet: u64,
    /// `ike`, `esp`, `keepalive` or `other`.
    pub kind: &'static str,
    /// Send time, microseconds.
    pub sent: Time,
    /// Arrival time; null when it was lost (or still on its way at the end).
    pub arrived: Option<Time>,
    /// Lane indexes and host ids of sender and receiver (receiver null when
    /// no host owns the destination).
    pub from: usize,
    pub from_node: String,
    pub to: Option<usize>,
    pub to_node: Option<String>,
    /// Addresses as sent.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Addresses as received, when a NAT rewrote them.
    pub received_src: Option<SocketAddr>,
    pub received_dst: Option<SocketAddr>,
    /// What the NAT changed, in words ("NAT: arrives from ...").
    pub nat: Option<String>,
    /// "INFORMATIONAL request #5", "NAT-keepalive", "ESP SPI ... seq ...".
    pub title: String,
    /// RFC notation: "HDR, SK {N(UPDATE_SA_ADDRESSES), N(COOKIE2)}".
    pub notation: String,
    /// IKE only: exchange name, message ID, response flag, and the notation
    /// item by item.
    pub exchange: Option<String>,
    pub message_id: Option<u32>,
    pub response: Option<bool>,
    pub items: Vec<String>,
    /// IKE only: the payloads inside SK, decrypted with the logged keys,
    /// one description each ("N(COOKIE2) = 5f3a..."); null when the message
    /// has no SK payload or it did not open.
    pub decrypted: Option<Vec<String>>,
    /// Why an IKE message could not be parsed or opened.
    pub error: Option<String>,
    /// ESP only: SPI (hex), sequence number, the decrypted inner packet,
    /// and whether it was UDP-encapsulated.
    pub esp_spi: Option<String>,
    pub esp_seq: Option<u32>,
    pub esp_inner: Option<String>,
    pub udp_encapsulated: Option<bool>,
    /// The same IKE octets were sent before (RFC 7296 §2.1).
    pub retransmission: bool,
    /// Lost, and why (null when delivered).
    pub lost: Option<String>,
    /// UDP payload octets (the ESP packet for plain ESP).
    pub size: usize,
}

/// A protocol decision, a state change or a rejected message.
#[derive(Clone, Debug, Serialize)]
pub struct JsonNote {
    pub time: Time,
    pub lane: Option<usize>,
    pub node: Option<String>,
    /// `protocol` or `rejected`.
    pub kind: &'static str,
    pub text: String,
    /// The rule it follows ("RFC 4555 §3.5").
    pub rule: Option<String>,
}

/// Something done to the network, by the timeline or the user.
#[derive(Clone, Debug, Serialize)]
pub struct JsonIntervention {
    pub time: Time,
    pub text: String,
}

/// A host at the end of the run.
#[derive(Clone, Debug, Serialize)]
pub struct HostState {
    pub id: String,
    pub label: String,
    pub role: String,
    /// Its IKE SAs, as the protocol holds them.
    pub sas: Vec<SaSnapshot>,
}

fn message(chart: &Chart, m: &MessageRow) -> JsonMessage {
    let node = |i: usize| chart.lanes.get(i).map(|l| l.node.clone());
    let mut j = JsonMessage {
        packet: m.packet,
        kind: "other",
        sent: m.sent,
        arrived: m.arrived,
        from: m.from,
        from_node: node(m.from).unwrap_or_default(),
        to: m.to,
        to_node: m.to.and_then(node),
        src: m.src,
        dst: m.dst,
        received_src: m.received_as.map(|(s, _)| s),
        received_dst: m.received_as.map(|(_, d)| d),
        nat: m.nat_note(),
        title: m.title(),
        notation: m.notation(),
        exchange: None,
        message_id: None,
        response: None,
        items: Vec::new(),
        decrypted: None,
        error: None,
        esp_spi: None,
        esp_seq: None,
        esp_inner: None,
        udp_encapsulated: None,
        retransmission: m.retransmission,
        lost: m.lost.clone(),
        size: m.size,
    };
    match &m.what {
        What::Ike {
            exchange,
            mid,
            response,
            items,
            inner,
            error,
        } => {
            j.kind = "ike";
            j.exchange = Some(exchange.to_string());
            j.message_id = Some(*mid);
            j.response = Some(*response);
            j.items = items.to_vec();
            j.decrypted = inner
                .as_ref()
                .map(|ps| ps.iter().map(inspect::describe).collect());
            j.error = error.clone();
        }
        What::Esp {
            spi,
            seq,
            inner,
            udp,
        } => {
            j.kind = "esp";
            j.esp_spi = Some(format!("{spi:08x}"));
            j.esp_seq = Some(*seq);
            j.esp_inner = inner.get().map(str::to_string);
            j.udp_encapsulated = Some(*udp);
        }
        What::Keepalive => j.kind = "keepalive",
        What::Other => {}
    }
    j
}

/// The hosts of a simulated world as they are at its end.
pub fn host_states(world: &dyn WorldRead) -> Vec<HostState> {
    world
        .hosts()
        .into_owned()
        .into_iter()
        .map(|h| HostState::new(h.id, h.label, h.role, h.sas))
        .collect()
}

impl HostState {
    pub fn new(
        id: String,
        label: String,
        role: mobike_protocol::Role,
        sas: Vec<SaSnapshot>,
    ) -> Self {
        HostState {
            id,
            label,
            role: match role {
                mobike_protocol::Role::Initiator => "initiator".into(),
                mobike_protocol::Role::Responder => "responder".into(),
            },
            sas,
        }
    }
}

/// The document of a run that stopped at `until`, its hosts as they were
/// then (see [`host_states`]; a real run gives its own endpoint's SAs).
pub fn document(
    scenario: &Scenario,
    hosts: Vec<HostState>,
    chart: &Chart,
    metrics: &Metrics,
    until: Time,
) -> Document {
    let rows = chart
        .rows
        .iter()
        .map(|r| match r {
            Row::Message(m) => JsonRow::Message(message(chart, m)),
            Row::Note(n) if n.kind == NoteKind::Network => {
                JsonRow::Intervention(JsonIntervention {
                    time: n.time,
                    text: n.text.clone(),
                })
            }
            Row::Note(n) => JsonRow::Note(JsonNote {
                time: n.time,
                lane: n.lane,
                node: n
                    .lane
                    .and_then(|l| chart.lanes.get(l))
                    .map(|l| l.node.clone()),
                kind: if n.kind == NoteKind::Rejected {
                    "rejected"
                } else {
                    "protocol"
                },
                text: n.text.clone(),
                rule: n.rule.clone(),
            }),
        })
        .collect();
    Document {
        format: FORMAT,
        version: FORMAT_VERSION,
        scenario: ScenarioInfo {
            title: scenario.title.clone(),
            seed: scenario.seed,
            until,
            until_text: crate::fmt_time(until),
        },
        lanes: chart.lanes.clone(),
        rows,
        metrics: metrics.clone(),
        hosts,
    }
}

/// The document as pretty-printed JSON, ending in a newline.
pub fn render(
    scenario: &Scenario,
    hosts: Vec<HostState>,
    chart: &Chart,
    metrics: &Metrics,
    until: Time,
) -> String {
    let doc = document(scenario, hosts, chart, metrics, until);
    // Every field is a string, number, bool, list or map with string keys:
    // serialisation cannot fail.
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_sim::World;

    #[test]
    fn a_small_run_serialises_with_its_version() {
        let toml = r#"
            version = 1
            title = "two hosts"
            seed = 5
            until = "2s"
            [[host]]
            id = "a"
            pos = [0, 0]
            role = "initiator"
            peer = "192.0.2.2"
            [[host.interface]]
            name = "eth0"
            address = "192.0.2.1"
            link = "la"
            [[host]]
            id = "b"
            pos = [1, 0]
            role = "responder"
            [[host.interface]]
            name = "eth0"
            address = "192.0.2.2"
            link = "lb"
            [[link]]
            id = "la"
            delay = "5ms"
            [[link]]
            id = "lb"
            delay = "5ms"
        "#;
        let s = Scenario::from_toml(toml).unwrap();
        let mut w = World::new(&s);
        w.run_until(s.until.micros());
        let chart = Chart::build(&s, w.trace());
        let m = crate::metrics::compute(w.trace());
        let text = render(&s, host_states(&w), &chart, &m, s.until.micros());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["format"], FORMAT);
        assert_eq!(v["version"], FORMAT_VERSION);
        assert_eq!(v["scenario"]["seed"], 5);
        assert_eq!(v["scenario"]["until"], 2_000_000);
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows[0]["row"], "message");
        assert_eq!(rows[0]["exchange"], "IKE_SA_INIT");
        assert_eq!(rows[0]["from_node"], "a");
        assert_eq!(rows[0]["to_node"], "b");
        assert_eq!(v["hosts"][0]["sas"][0]["state"], "established");
    }
}
