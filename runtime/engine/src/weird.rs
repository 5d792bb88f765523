//! Weird sampling as Zeek's reporter does it (`Reporter.cc`, `WeirdState.cc`):
//! the first `Weird::sampling_threshold` weirds of a name pass, then one in
//! `Weird::sampling_rate`. Net weirds count per name and flow weirds per
//! (source, destination) pair; both states are dropped
//! `Weird::sampling_duration` after they were made, so counting starts over.
//! Conn weirds count per connection and name, and start over once sampling
//! has lasted that long. The flow table is keyed by attacker-chosen
//! addresses, so besides its expiry it has a cap
//! ([`crate::Config::max_flow_weird_pairs`]): past it the oldest pair goes.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// The sampling settings (`Weird::sampling_threshold`, `Weird::sampling_rate`,
/// `Weird::sampling_duration`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Weirds of a name that pass before sampling starts.
    pub threshold: u64,
    /// Past the threshold, one in this many passes (0: none).
    pub rate: u64,
    /// Seconds of network time a state is kept (net, flow) or sampling lasts (conn).
    pub duration: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { threshold: 25, rate: 1000, duration: 600.0 }
    }
}

impl Sampling {
    /// Whether the `count`-th weird of a name (counting from 1) is raised.
    pub fn permit(&self, count: u64) -> bool {
        if count <= self.threshold {
            return true;
        }
        self.rate != 0 && (count - self.threshold).is_multiple_of(self.rate)
    }
}

/// The count of one weird name on one connection, with the time sampling
/// started (Zeek's `WeirdState`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WeirdState {
    count: u64,
    sampling_start: f64,
}

impl WeirdState {
    /// Counts one more weird at network time `now`; whether it is raised.
    pub fn permit(&mut self, s: &Sampling, now: f64) -> bool {
        self.count += 1;
        if self.count <= s.threshold {
            return true;
        }
        if self.count == s.threshold + 1 {
            self.sampling_start = now;
        } else if now > self.sampling_start + s.duration {
            self.sampling_start = 0.0;
            self.count = 1;
            return true;
        }
        s.rate != 0 && (self.count - s.threshold).is_multiple_of(s.rate)
    }
}

/// Net weird counts per name, each dropped `duration` after its first weird.
/// Names come from the engine's fixed set, so the table stays small.
#[derive(Debug, Default)]
pub struct NetWeirds {
    /// Name → (count, network time the state was made).
    map: HashMap<String, (u64, f64)>,
}

impl NetWeirds {
    /// Counts a net weird `name` at network time `now`; whether it is raised.
    pub fn permit(&mut self, s: &Sampling, name: &str, now: f64) -> bool {
        let e = match self.map.get_mut(name) {
            Some(e) => e,
            None => self.map.entry(name.to_string()).or_insert((0, now)),
        };
        // The state's timer would have fired at or before this packet.
        if now >= e.1 + s.duration {
            *e = (0, now);
        }
        e.0 += 1;
        s.permit(e.0)
    }

    /// Names with a live count.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no name is counted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Flow weird counts per (source, destination) pair.
#[derive(Debug)]
pub struct FlowWeirds {
    map: HashMap<(IpAddr, IpAddr), FlowState>,
    /// Pairs in the order they were made (so in order of expiry: network
    /// time never goes back), with their creation time.
    order: VecDeque<(f64, (IpAddr, IpAddr))>,
    cap: usize,
    evicted: u64,
}

/// The weird counts of one address pair: most pairs see one name, kept
/// inline; others go to `more` (allocated only then).
#[derive(Debug)]
struct FlowState {
    made: f64,
    first: (&'static str, u64),
    more: Vec<(&'static str, u64)>,
}

impl FlowWeirds {
    /// An empty table holding at most `cap` pairs (0: no cap).
    pub fn new(cap: usize) -> Self {
        FlowWeirds { map: HashMap::new(), order: VecDeque::new(), cap, evicted: 0 }
    }

    /// Counts a flow weird `name` from `src` to `dst` at network time `now`;
    /// whether it is raised.
    pub fn permit(&mut self, s: &Sampling, name: &'static str, src: IpAddr, dst: IpAddr, now: f64) -> bool {
        let key = (src, dst);
        if let Some(st) = self.map.get_mut(&key) {
            return s.permit(st.count(name));
        }
        if self.cap > 0 && self.map.len() >= self.cap {
            if let Some((_, old)) = self.order.pop_front() {
                self.map.remove(&old);
                self.evicted += 1;
            }
        }
        self.order.push_back((now, key));
        self.map.insert(key, FlowState { made: now, first: (name, 1), more: Vec::new() });
        s.permit(1)
    }

    /// Drops the pairs made `duration` or more before `now`.
    pub fn expire(&mut self, s: &Sampling, now: f64) {
        while let Some(&(made, key)) = self.order.front() {
            if now < made + s.duration {
                break;
            }
            self.order.pop_front();
            if self.map.get(&key).is_some_and(|st| st.made == made) {
                self.map.remove(&key);
            }
        }
    }

    /// Address pairs with live counts.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no pair is counted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Pairs dropped before their time because the table was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

impl FlowState {
    /// Counts one more weird `name`; its count.
    fn count(&mut self, name: &'static str) -> u64 {
        if self.first.0 == name {
            self.first.1 += 1;
            return self.first.1;
        }
        match self.more.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => {
                *k += 1;
                *k
            }
            None => {
                self.more.push((name, 1));
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_sampling_counts_from_the_threshold() {
        let s = Sampling::default();
        let passed: Vec<u64> = (1..=3000).filter(|&n| s.permit(n)).collect();
        assert_eq!(passed.len(), 27);
        assert_eq!(&passed[24..], &[25, 1025, 2025]);
        assert!(!Sampling { rate: 0, ..s }.permit(26));
    }

    #[test]
    fn conn_sampling_starts_over_after_the_duration() {
        let s = Sampling { threshold: 2, rate: 1000, duration: 10.0 };
        let mut w = WeirdState::default();
        assert!(w.permit(&s, 0.0) && w.permit(&s, 0.0));
        assert!(!w.permit(&s, 1.0)); // sampling starts at 1.0
        assert!(!w.permit(&s, 11.0));
        assert!(w.permit(&s, 11.5)); // more than 10 s later: counting starts over
        assert!(w.permit(&s, 11.5));
        assert!(!w.permit(&s, 11.5));
    }

    #[test]
    fn flow_pairs_expire_and_stay_under_the_cap() {
        let s = Sampling { threshold: 1, rate: 0, duration: 100.0 };
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let mut f = FlowWeirds::new(3);
        assert!(f.permit(&s, "x", a, a, 0.0));
        assert!(!f.permit(&s, "x", a, a, 50.0));
        assert!(f.permit(&s, "y", a, a, 50.0), "another name counts on its own");
        assert!(!f.permit(&s, "y", a, a, 50.0));
        f.expire(&s, 99.0);
        assert_eq!(f.len(), 1);
        f.expire(&s, 100.0);
        assert_eq!(f.len(), 0);
        assert!(f.permit(&s, "x", a, a, 100.0), "a fresh state after the expiry");
        for i in 0..10u8 {
            let b = IpAddr::from([10, 1, 0, i]);
            f.permit(&s, "x", b, a, 101.0);
        }
        assert_eq!(f.len(), 3);
        assert_eq!(f.evicted(), 8);
    }

    #[test]
    fn net_state_starts_over_after_the_duration() {
        let s = Sampling { threshold: 1, rate: 0, duration: 5.0 };
        let mut n = NetWeirds::default();
        assert!(n.permit(&s, "x", 1.0));
        assert!(!n.permit(&s, "x", 5.9));
        assert!(n.permit(&s, "x", 6.0));
        assert_eq!(n.len(), 1);
    }
}
