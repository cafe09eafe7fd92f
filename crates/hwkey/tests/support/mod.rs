//! Shared helpers for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use schild_hwkey::ctap::{
    EnrollmentProgress, KeyObserver, Pin, SecurityKey, SilentObserver, virtual_key::VirtualKey,
};

/// Everything an observer heard, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Touch,
    Processing,
    Progress(EnrollmentProgress),
}

#[derive(Debug, Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    pub fn progress(&self) -> Vec<EnrollmentProgress> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Progress(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    pub fn touches(&self) -> usize {
        self.events().iter().filter(|e| **e == Event::Touch).count()
    }
}

impl KeyObserver for Recorder {
    fn touch_requested(&self) {
        self.0.lock().unwrap().push(Event::Touch);
    }

    fn processing(&self) {
        self.0.lock().unwrap().push(Event::Processing);
    }

    fn enrollment_progress(&self, progress: &EnrollmentProgress) {
        self.0.lock().unwrap().push(Event::Progress(*progress));
    }
}

pub fn pin(text: &str) -> Pin {
    Pin::new(text).unwrap()
}

pub async fn open(key: &VirtualKey) -> SecurityKey<VirtualKey> {
    SecurityKey::open(key.clone(), Arc::new(SilentObserver))
        .await
        .unwrap()
}

pub async fn open_recorded(key: &VirtualKey) -> (SecurityKey<VirtualKey>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let security_key = SecurityKey::open(key.clone(), recorder.clone())
        .await
        .unwrap();
    (security_key, recorder)
}
