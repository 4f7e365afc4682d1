//! The proposal rules against a fake DNS answering from zone text.

use super::*;
use crate::policy::test_support::Zoned as Fake;

const ZONE: &str = "$ORIGIN example.\n$TTL 300\n\
mail.owner A 192.0.2.10\n A 192.0.2.11\n\
10.2.0.192.in-addr.arpa. PTR mail.owner.example.\n\
66.100.51.198.in-addr.arpa. PTR mail.owner.example.\n\
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR v6.owner.example.\n\
v6.owner AAAA 2001:db8::25\n";

fn flow(ip: &str, messages: u64, authenticated: Option<u64>) -> Flow {
    Flow {
        ip: ip.parse().unwrap(),
        messages,
        authenticated,
        logged_name: None,
    }
}

fn logged(ip: &str, messages: u64, name: &str) -> Flow {
    Flow {
        logged_name: Some(name.to_string()),
        ..flow(ip, messages, None)
    }
}

fn run(fake: &Fake, flows: &[Flow], opts: &ProposeOptions) -> Proposal {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(propose(fake, "owner.example", flows, opts))
}

fn online() -> ProposeOptions {
    ProposeOptions {
        min_messages: None,
        reverse_dns: true,
        from_spf: false,
    }
}

/// The proposed targets' names and how each was named, in order.
fn names(p: &Proposal) -> Vec<(&str, &Naming)> {
    p.targets
        .iter()
        .map(|t| (t.name.as_str(), &t.naming))
        .collect()
}

#[test]
fn forward_confirmed_names_are_used_and_cover_their_other_addresses() {
    let fake = Fake::new(ZONE);
    let flows = [
        flow("192.0.2.10", 100, Some(90)),
        flow("192.0.2.11", 3, Some(0)),
        flow("2001:db8::25", 8, Some(8)),
    ];
    let p = run(&fake, &flows, &online());
    assert_eq!(
        names(&p),
        vec![
            ("mail.owner.example", &Naming::Confirmed),
            ("v6.owner.example", &Naming::Confirmed)
        ]
    );
    // 192.0.2.11 sent no authenticated mail but mail.owner.example's A records hold it.
    assert!(p.left_out.is_empty(), "{:?}", p.left_out);
    assert_eq!(
        p.coverage,
        Coverage {
            messages: 111,
            covered: 111,
            authenticated: 98,
            authenticated_covered: 98
        }
    );
}

#[test]
fn a_ptr_that_does_not_resolve_back_is_not_trusted() {
    // 198.51.100.66 claims mail.owner.example, whose addresses do not hold it.
    let fake = Fake::new(ZONE);
    let flows = [flow("198.51.100.66", 5, Some(5))];
    let p = run(&fake, &flows, &online());
    assert_eq!(p.targets.len(), 1);
    assert_eq!(
        p.targets[0].name,
        "relay-198-51-100-66.mail-from.owner.example"
    );
    assert_eq!(
        p.targets[0].naming,
        Naming::Synthesized("198.51.100.66".parse().unwrap())
    );
}

#[test]
fn unauthenticated_relays_need_min_messages() {
    let fake = Fake::new(ZONE);
    let flows = [
        flow("203.0.113.5", 50, None),
        flow("203.0.113.6", 4, Some(0)),
        flow("203.0.113.7", 2, None),
    ];
    let p = run(&fake, &flows, &online());
    assert!(p.targets.is_empty());
    assert_eq!(p.left_out.len(), 3);
    assert_eq!(p.coverage.covered, 0);
    let opts = ProposeOptions {
        min_messages: Some(4),
        ..online()
    };
    let p = run(&fake, &flows, &opts);
    let names: Vec<&str> = p.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "relay-203-0-113-5.mail-from.owner.example",
            "relay-203-0-113-6.mail-from.owner.example"
        ]
    );
    assert_eq!(p.left_out, vec![flow("203.0.113.7", 2, None)]);
    assert_eq!(p.coverage.covered, 54);
    assert_eq!(p.coverage.messages, 56);
}

#[test]
fn offline_asks_nothing_and_synthesizes_every_name() {
    let fake = Fake::new(ZONE);
    let opts = ProposeOptions {
        reverse_dns: false,
        ..online()
    };
    let p = run(&fake, &[flow("2001:db8::25", 8, Some(8))], &opts);
    assert!(fake.questions.lock().unwrap().is_empty());
    assert_eq!(
        p.targets[0].name,
        "relay-20010db8000000000000000000000025.mail-from.owner.example"
    );
}

#[test]
fn reverse_names() {
    assert_eq!(
        reverse_name("192.0.2.10".parse().unwrap()),
        "10.2.0.192.in-addr.arpa"
    );
    assert_eq!(
        reverse_name("2001:db8::25".parse().unwrap()),
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    );
}

const SPF_ZONE: &str = "$ORIGIN example.\n$TTL 300\n\
owner TXT \"v=spf1 a:out.owner.example mx ip4:198.51.100.9 ip4:198.51.100.0/24 -ip4:192.0.2.66 include:_spf.esp.example ~all\"\n\
owner MX 10 mx.owner.example.\n\
out.owner A 192.0.2.30\n\
mx.owner A 192.0.2.40\n";

#[test]
fn from_spf_adds_the_hosts_and_addresses_it_names() {
    let fake = Fake::new(SPF_ZONE);
    let opts = ProposeOptions {
        from_spf: true,
        ..online()
    };
    let flows = [flow("192.0.2.30", 9, None), flow("203.0.113.1", 4, None)];
    let p = run(&fake, &flows, &opts);
    let names: Vec<(&str, &Naming, Vec<&str>)> = p
        .targets
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                &t.naming,
                t.spf.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("mx.owner.example", &Naming::Spf, vec!["mx"]),
            (
                "out.owner.example",
                &Naming::Spf,
                vec!["a:out.owner.example"]
            ),
            (
                "relay-198-51-100-9.mail-from.owner.example",
                &Naming::Synthesized("198.51.100.9".parse().unwrap()),
                vec!["ip4:198.51.100.9"]
            ),
        ]
    );
    assert_eq!(
        p.spf_left_out,
        vec!["ip4:198.51.100.0/24", "include:_spf.esp.example"]
    );
    // 192.0.2.30 sent no authenticated mail, but SPF's a:out.owner.example covers it.
    assert_eq!(p.coverage.covered, 9);
    assert_eq!(p.left_out, vec![flow("203.0.113.1", 4, None)]);
    assert_eq!(p.spf_problem, None);
}

#[test]
fn from_spf_without_a_record_says_so() {
    let fake = Fake::new(ZONE);
    let opts = ProposeOptions {
        from_spf: true,
        ..online()
    };
    let p = run(&fake, &[], &opts);
    assert!(p.targets.is_empty());
    assert_eq!(
        p.spf_problem.as_deref(),
        Some("owner.example publishes no SPF record")
    );
}

#[test]
fn a_name_the_log_recorded_is_used_when_its_addresses_hold_the_relay() {
    let fake = Fake::new(ZONE);
    let opts = ProposeOptions {
        min_messages: Some(1),
        reverse_dns: false,
        ..online()
    };
    // 192.0.2.11 has no PTR, but its log named mail.owner.example, which holds it; the
    // second log name does not hold its relay and is not trusted.
    let flows = [
        logged("192.0.2.11", 4, "mail.owner.example"),
        logged("198.51.100.66", 2, "mail.owner.example"),
    ];
    let p = run(&fake, &flows, &opts);
    assert_eq!(
        names(&p),
        vec![
            ("mail.owner.example", &Naming::Logged),
            (
                "relay-198-51-100-66.mail-from.owner.example",
                &Naming::Synthesized("198.51.100.66".parse().unwrap())
            ),
        ]
    );
    // Without reverse DNS, no PTR was asked.
    let asked = fake.questions.lock().unwrap();
    assert!(asked.iter().all(|(_, t)| *t != QType::Ptr), "{asked:?}");
}

#[test]
fn the_log_name_comes_before_a_ptr_name() {
    // 192.0.2.10's PTR says mail.owner.example; its log said v4.owner.example, which
    // also holds it: the administrator's name wins.
    let zone = format!("{ZONE}v4.owner A 192.0.2.10\n");
    let fake = Fake::new(&zone);
    let flows = [logged("192.0.2.10", 9, "v4.owner.example")];
    let opts = ProposeOptions {
        min_messages: Some(1),
        ..online()
    };
    let p = run(&fake, &flows, &opts);
    assert_eq!(p.targets.len(), 1);
    assert_eq!(
        (p.targets[0].name.as_str(), &p.targets[0].naming),
        ("v4.owner.example", &Naming::Logged)
    );
}
