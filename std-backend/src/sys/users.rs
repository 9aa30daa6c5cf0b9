//! The user and group database (NSS: /etc/passwd and /etc/group, LDAP,
//! ...), through libc's re-entrant lookups, which rustix does not wrap.
#![allow(unsafe_code)] // the OS layer: getpwuid_r and getgrgid_r

use std::ffi::{CStr, c_char};

/// Lookups whose records do not fit grow their buffer up to this.
const MAX_BUF: usize = 1 << 20;

/// Whether the user `uid` is listed as a member of the group `gid` (its
/// supplementary groups; the primary group of a user is in its passwd
/// record instead), as libzmq's ZMQ_IPC_FILTER_GID checks with
/// `getpwuid` and `getgrgid`. `false` if either is unknown.
pub(crate) fn user_in_group(uid: u32, gid: u32) -> bool {
    let Some(name) = user_name(uid) else {
        return false;
    };
    group_members(gid).is_some_and(|members| members.contains(&name))
}

/// Runs a re-entrant lookup with a buffer that grows while the OS answers
/// ERANGE; `found` reads the record (only when one was found).
fn lookup<R, T>(
    call: impl Fn(&mut R, &mut [c_char], &mut *mut R) -> i32,
    found: impl FnOnce(&R) -> T,
) -> Option<T> {
    let mut buf = vec![0 as c_char; 1024];
    loop {
        // SAFETY: the record types (passwd, group) are plain C structs of
        // integers and pointers, for which all zeroes is a valid value.
        let mut record: R = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        match call(&mut record, &mut buf, &mut result) {
            libc::ERANGE if buf.len() < MAX_BUF => buf.resize(buf.len() * 2, 0),
            0 if !result.is_null() => return Some(found(&record)),
            _ => return None,
        }
    }
}

fn user_name(uid: u32) -> Option<Vec<u8>> {
    lookup(
        |pwd: &mut libc::passwd, buf, result| {
            // SAFETY: every pointer is valid for the call, `buf` for its
            // length; the record's strings point into `buf`.
            unsafe { libc::getpwuid_r(uid, pwd, buf.as_mut_ptr(), buf.len(), result) }
        },
        // SAFETY: a record found has a NUL-terminated name in the buffer,
        // still alive here.
        |pwd| unsafe { CStr::from_ptr(pwd.pw_name) }.to_bytes().to_vec(),
    )
}

fn group_members(gid: u32) -> Option<Vec<Vec<u8>>> {
    lookup(
        |grp: &mut libc::group, buf, result| {
            // SAFETY: as in `user_name`.
            unsafe { libc::getgrgid_r(gid, grp, buf.as_mut_ptr(), buf.len(), result) }
        },
        |grp| {
            let mut members = Vec::new();
            let mut at = grp.gr_mem;
            // SAFETY: a record found has `gr_mem`, a NULL-terminated array
            // of NUL-terminated names, in the buffer, still alive here.
            unsafe {
                while !at.is_null() && !(*at).is_null() {
                    members.push(CStr::from_ptr(*at).to_bytes().to_vec());
                    at = at.add(1);
                }
            }
            members
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group of /etc/group that lists a user of /etc/passwd, if any:
    /// (its gid, the user's uid).
    fn listed_member() -> Option<(u32, u32)> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        let group = std::fs::read_to_string("/etc/group").ok()?;
        group.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            let gid = f.get(2)?.parse().ok()?;
            let member = f.get(3)?.split(',').find(|m| !m.is_empty())?;
            passwd
                .lines()
                .find_map(|p| {
                    let p: Vec<&str> = p.split(':').collect();
                    (p.first() == Some(&member)).then(|| p.get(2)?.parse().ok())?
                })
                .map(|uid| (gid, uid))
        })
    }

    #[test]
    fn finds_users_and_group_members() {
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(user_name(u32::MAX - 7), None);
        assert!(!user_in_group(u32::MAX - 7, 0));
        assert!(!user_in_group(0, u32::MAX - 7));
        match listed_member() {
            Some((gid, uid)) => {
                assert!(user_in_group(uid, gid), "uid {uid} in gid {gid}");
                assert!(!user_in_group(uid, u32::MAX - 7));
            }
            None => eprintln!("skipped: no group of /etc/group lists a member"),
        }
    }
}
