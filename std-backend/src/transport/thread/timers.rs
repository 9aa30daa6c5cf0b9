//! The timer heap: one live entry per session at most (stale entries are
//! skipped), fired in deadline order.

use super::*;

impl IoThread {
    /// Puts the session's next deadline in the timer heap.
    pub(super) fn reschedule(&mut self, key: usize) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let engine_deadline = match &session.link {
            Link::Draining(_, d) => Some(d.next_check),
            Link::Up(e) => e.deadline(),
            _ => session
                .deadline
                .filter(|_| matches!(session.link, Link::Idle)),
        };
        let deadline = match (engine_deadline, session.linger_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        session.deadline = deadline;
        Self::queue(&mut self.timers, session, key);
    }

    /// Makes sure the timer heap fires no later than the session's
    /// deadline, pushing an entry only when it must fire earlier than the
    /// one queued.
    pub(super) fn queue(
        timers: &mut BinaryHeap<Reverse<(Instant, usize)>>,
        session: &mut Session,
        key: usize,
    ) {
        if let Some(at) = session.deadline {
            if session.queued.is_none_or(|q| at < q) {
                timers.push(Reverse((at, key)));
                session.queued = Some(at);
            }
        }
    }

    pub(super) fn fire_timers(&mut self) {
        let now = self.now();
        while let Some(&Reverse((at, key))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(session) = self.sessions.get_mut(key) else {
                continue;
            };
            if session.queued != Some(at) {
                // Stale: an earlier entry replaced it.
                continue;
            }
            session.queued = None;
            match session.deadline {
                None => continue,
                Some(d) if d > now => {
                    // The deadline moved later since this was queued.
                    Self::queue(&mut self.timers, session, key);
                    continue;
                }
                Some(_) => {}
            }
            session.deadline = None;
            if session.linger_until.is_some_and(|l| l <= now) {
                self.close_session(key);
                continue;
            }
            match &mut session.link {
                Link::Idle => self.connect(key),
                Link::Draining(..) => self.check_drain(key, now),
                Link::Up(engine) => {
                    if let Err(f) = engine.handle_timeout(now) {
                        self.engine_failed(key, f);
                    } else {
                        self.pump_output(key);
                    }
                }
                Link::Connecting(_) | Link::Socks(_) => {}
            }
        }
    }
}
