//! Per-client limits: who the client is (its address), and how many sockets it holds.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use dashmap::DashMap;

/// The client's address: the peer's, or (behind a trusted reverse proxy) the one the proxy
/// reports in `X-Real-IP` or as the last `X-Forwarded-For` entry, which is the one the proxy
/// itself added (earlier entries come from the client and prove nothing).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_proxy_headers: bool) -> IpAddr {
    if trust_proxy_headers {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let forwarded = header("x-real-ip")
            .or_else(|| header("x-forwarded-for").and_then(|v| v.rsplit(',').next()));
        if let Some(ip) = forwarded.and_then(|v| v.trim().parse().ok()) {
            return ip;
        }
    }
    peer.ip()
}

/// Open connections per client address.
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    open: DashMap<IpAddr, u32>,
}

/// One counted connection; dropping it gives the slot back.
#[derive(Debug)]
pub struct ConnectionSlot {
    counts: Arc<ConnectionCounts>,
    ip: IpAddr,
}

impl ConnectionCounts {
    /// Take a slot for `ip` if it holds fewer than `max`.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr, max: u32) -> Option<ConnectionSlot> {
        let mut n = self.open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ConnectionSlot {
            counts: self.clone(),
            ip,
        })
    }

    /// Open connections from `ip`.
    pub fn open(&self, ip: IpAddr) -> u32 {
        self.open.get(&ip).map_or(0, |n| *n)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.counts.open.remove_if_mut(&self.ip, |_, n| {
            *n -= 1;
            *n == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_headers_count_only_when_trusted_and_only_the_proxys_entry() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        assert_eq!(client_ip(peer, &h, false), peer.ip());
        assert_eq!(
            client_ip(peer, &h, true),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        h.insert("x-real-ip", "198.51.100.7".parse().unwrap());
        assert_eq!(
            client_ip(peer, &h, true),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        h.insert("x-real-ip", "not an address".parse().unwrap());
        h.remove("x-forwarded-for");
        assert_eq!(client_ip(peer, &h, true), peer.ip());
    }

    #[test]
    fn slots_are_counted_and_given_back() {
        let counts = Arc::new(ConnectionCounts::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let a = counts.acquire(ip, 2).unwrap();
        let _b = counts.acquire(ip, 2).unwrap();
        assert!(counts.acquire(ip, 2).is_none());
        drop(a);
        assert_eq!(counts.open(ip), 1);
        assert!(counts.acquire(ip, 2).is_some());
    }
}
