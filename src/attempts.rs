//! Wrong room codes, counted per client address and per session, so the six-digit code cannot
//! be guessed at the pace of many sockets.
//!
//! Counts run in windows of a minute (a code's life on the display). An address that sent the
//! per-address budget of wrong codes in this window may not try again until it ends. Past the
//! per-session budget (wrong codes from every address together), only addresses that already
//! sent a wrong code in this window are held back: an address that has not been wrong, such as
//! the room's own Wi-Fi whose people type (or scan) the code on the screen, is never locked out
//! by someone guessing elsewhere. A guesser with many addresses gets one try per address per
//! minute once the session's budget is spent.

use std::net::IpAddr;

use dashmap::DashMap;

use crate::ids::SessionId;

/// The length of a counting window, in milliseconds.
pub const WINDOW_MS: u64 = 60_000;

/// Wrong codes in this window, for one key.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: u64,
    wrong: u32,
}

/// The counts, shared by every connection of the service.
#[derive(Debug)]
pub struct RoomAttempts {
    per_ip: DashMap<IpAddr, Window>,
    per_session: DashMap<SessionId, Window>,
    ip_budget: u32,
    session_budget: u32,
}

impl RoomAttempts {
    /// Counts with these budgets of wrong codes per window.
    pub fn new(ip_budget: u32, session_budget: u32) -> Self {
        Self {
            per_ip: DashMap::new(),
            per_session: DashMap::new(),
            ip_budget,
            session_budget,
        }
    }

    /// Whether `ip` may try a code for `session` at `now_ms`; if not, the milliseconds until it
    /// may. Asked before the code is checked, so a held-back guess learns nothing.
    pub fn admit(&self, ip: IpAddr, session: SessionId, now_ms: u64) -> Result<(), u64> {
        let start = now_ms - now_ms % WINDOW_MS;
        let wrong = |w: Option<Window>| w.filter(|w| w.start == start).map_or(0, |w| w.wrong);
        let by_ip = wrong(self.per_ip.get(&ip).map(|w| *w));
        let by_session = wrong(self.per_session.get(&session).map(|w| *w));
        if by_ip >= self.ip_budget || (by_ip > 0 && by_session >= self.session_budget) {
            return Err(start + WINDOW_MS - now_ms);
        }
        Ok(())
    }

    /// Count a wrong code from `ip` for `session`.
    pub fn wrong(&self, ip: IpAddr, session: SessionId, now_ms: u64) {
        let start = now_ms - now_ms % WINDOW_MS;
        let bump = |w: &mut Window| {
            if w.start != start {
                *w = Window { start, wrong: 0 };
            }
            w.wrong = w.wrong.saturating_add(1);
        };
        bump(&mut self.per_ip.entry(ip).or_insert(Window { start, wrong: 0 }));
        bump(
            &mut self
                .per_session
                .entry(session)
                .or_insert(Window { start, wrong: 0 }),
        );
    }

    /// Forget windows that have ended, so the maps hold only this minute's guessers.
    pub fn forget_old(&self, now_ms: u64) {
        let start = now_ms - now_ms % WINDOW_MS;
        self.per_ip.retain(|_, w| w.start == start);
        self.per_session.retain(|_, w| w.start == start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_back_past_its_budget_until_the_window_ends() {
        let a = RoomAttempts::new(3, 100);
        let (ip, s, t) = ("192.0.2.1".parse().unwrap(), SessionId::random(), 120_000);
        for _ in 0..3 {
            assert!(a.admit(ip, s, t).is_ok());
            a.wrong(ip, s, t);
        }
        assert_eq!(a.admit(ip, s, t + 10_000), Err(50_000));
        assert!(a.admit(ip, s, t + WINDOW_MS).is_ok(), "a new window");
        a.forget_old(t + WINDOW_MS);
        assert!(a.per_ip.is_empty());
    }

    #[test]
    fn past_the_sessions_budget_only_addresses_that_were_wrong_are_held_back() {
        let a = RoomAttempts::new(100, 5);
        let s = SessionId::random();
        let t = 0;
        for n in 0..5u8 {
            let ip = IpAddr::from([198, 51, 100, n]);
            a.wrong(ip, s, t);
        }
        let guesser = IpAddr::from([198, 51, 100, 0]);
        let room = IpAddr::from([203, 0, 113, 7]);
        assert!(a.admit(guesser, s, t).is_err());
        assert!(a.admit(room, s, t).is_ok(), "the room is not locked out");
        assert!(a.admit(guesser, SessionId::random(), t).is_ok());
    }
}
