//! The subscription stores against a sorted map: the std backend's radix
//! tree (`HeapTopics`) and core's fixed map (`FixedMap`), given the same
//! inserts, removals, retains, lookups and prefix matches drawn from the
//! input. Keys come from a four-letter alphabet so that they share
//! prefixes, split and merge nodes; now and then one is long.
//!
//! Checked after every step: lookups, lengths and removals agree with the
//! model; the tree lists its entries once each, in order; a match reports
//! exactly the keys that are prefixes of the message, shortest first for
//! the tree, and stops when told.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::storage::{ByteMap, FixedMap, TopicMap};
use zlink_mq_std::storage::HeapTopics;

/// Longest key the fixed map stores; longer ones it refuses.
const FIXED_KEY: usize = 12;
type Fixed = FixedMap<u32, 24, FIXED_KEY>;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn key(&mut self) -> Option<Vec<u8>> {
        let len = self.byte()?;
        let len = if len == 0xff {
            // A long one: 256 to 4 351 bytes.
            256 + usize::from(self.byte()?) * 16
        } else {
            usize::from(len % 20)
        };
        let mut key = Vec::with_capacity(len);
        for i in 0..len {
            let b = self.0.get(i % self.0.len().max(1)).copied().unwrap_or(0);
            key.push(b'a' + b % 4);
        }
        // Only the bytes of short keys are consumed.
        if len < 20 {
            self.0 = &self.0[len.min(self.0.len())..];
        }
        Some(key)
    }
}

/// The model's keys that are prefixes of `data`, shortest first (a prefix
/// sorts before its extensions).
fn prefixes<V: Copy>(model: &BTreeMap<Vec<u8>, V>, data: &[u8]) -> Vec<(Vec<u8>, V)> {
    model
        .iter()
        .filter(|(k, _)| data.starts_with(k))
        .map(|(k, &v)| (k.clone(), v))
        .collect()
}

fn matches<M: TopicMap<u32>>(map: &M, data: &[u8]) -> Vec<(Vec<u8>, u32)> {
    let mut found = Vec::new();
    assert!(!map.any_prefix(data, |k, &v| {
        assert!(data.starts_with(k));
        found.push((k.to_vec(), v));
        false
    }));
    found
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut tree: HeapTopics<u32> = HeapTopics::default();
    let mut fixed = Fixed::new();
    let mut model: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
    let mut fixed_model: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
    let mut step = 0u32;
    while let (Some(op), Some(key)) = (input.byte(), input.key()) {
        step += 1;
        match op % 8 {
            0..=2 => {
                if let Some(v) = model.get_mut(&key) {
                    *v = step;
                    *tree.get_mut(&key).expect("present") = step;
                } else {
                    model.insert(key.clone(), step);
                    tree.insert(&key, step).expect("the tree takes any key");
                }
                if let Some(v) = fixed_model.get_mut(&key) {
                    *v = step;
                    *fixed.get_mut(&key).expect("present") = step;
                } else {
                    let taken = fixed.insert(&key, step).is_ok();
                    assert_eq!(
                        taken,
                        key.len() <= FIXED_KEY && fixed_model.len() < 24,
                        "fixed insert"
                    );
                    if taken {
                        fixed_model.insert(key.clone(), step);
                    }
                }
            }
            3 | 4 => {
                assert_eq!(tree.remove(&key), model.remove(&key), "remove");
                assert_eq!(fixed.remove(&key), fixed_model.remove(&key), "fixed remove");
            }
            5 => {
                let odd = u32::from(key.len() % 2 == 1);
                let keep = |v: &u32| *v % 2 != odd;
                model.retain(|_, v| keep(v));
                tree.retain(|_, v| keep(v));
                fixed_model.retain(|_, v| keep(v));
                fixed.retain(|_, v| keep(v));
            }
            _ => {
                let mut message = key.clone();
                message.extend(input.key().unwrap_or_default());
                let expected = prefixes(&model, &message);
                assert_eq!(matches(&tree, &message), expected, "tree matches");
                assert_eq!(tree.any_prefix(&message, |_, _| true), !expected.is_empty());
                let mut found = matches(&fixed, &message);
                found.sort();
                let mut expected = prefixes(&fixed_model, &message);
                expected.sort();
                assert_eq!(found, expected, "fixed matches");
            }
        }
        assert_eq!(tree.get(&key), model.get(&key));
        assert_eq!(tree.len(), model.len());
        assert_eq!(fixed.get(&key), fixed_model.get(&key));
        assert_eq!(fixed.len(), fixed_model.len());
    }
    let mut listed = Vec::new();
    tree.for_each(|k, &v| listed.push((k.to_vec(), v)));
    assert!(listed.iter().cloned().eq(model.into_iter()), "tree listing");
});
