//! Attendance analytics from recorded visits: unique attendees, peak concurrency, average
//! minutes per attendee and top countries, for a session or any group of visits.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use utoipa::ToSchema;

use plenary_proto::{RoomId, UserId};

/// One stay of one connection in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub room: RoomId,
    pub user: UserId,
    pub country: Option<String>,
    pub joined_at: i64,
    /// `None` while the stay goes on (or its node stopped without recording the end).
    pub left_at: Option<i64>,
}

/// Countries listed in a report.
const TOP_COUNTRIES: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AttendanceReport {
    /// Distinct users who joined.
    pub unique_attendees: u32,
    /// Most connections present at once.
    pub peak_concurrent: u32,
    /// Time in the room per attendee (overlapping tabs of one user count once), in minutes.
    pub average_minutes: f64,
    /// Attendees per country (users without a country are left out), most first.
    pub top_countries: Vec<CountryCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountryCount {
    pub country: String,
    pub attendees: u32,
}

/// The report for `visits`; a visit still open counts until `now` (Unix ms).
pub fn report<'a>(visits: impl IntoIterator<Item = &'a Visit>, now: i64) -> AttendanceReport {
    let mut edges: Vec<(i64, i32)> = Vec::new();
    let mut per_user: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    let mut countries: HashMap<&str, HashSet<&str>> = HashMap::new();
    for visit in visits {
        let end = visit.left_at.unwrap_or(now).max(visit.joined_at);
        edges.push((visit.joined_at, 1));
        edges.push((end, -1));
        per_user.entry(visit.user.as_str()).or_default().push((visit.joined_at, end));
        if let Some(country) = &visit.country {
            countries.entry(country.as_str()).or_default().insert(visit.user.as_str());
        }
    }
    // Leaves sort before joins at the same instant: a reconnect is not two people.
    edges.sort_by_key(|&(at, delta)| (at, delta));
    let (mut present, mut peak) = (0i32, 0i32);
    for (_, delta) in edges {
        present += delta;
        peak = peak.max(present);
    }
    let total_ms: i64 = per_user.values_mut().map(|stays| merged_length(stays)).sum();
    let unique = per_user.len();
    let mut top: Vec<CountryCount> = countries
        .into_iter()
        .map(|(country, users)| CountryCount { country: country.to_owned(), attendees: users.len() as u32 })
        .collect();
    top.sort_by(|a, b| b.attendees.cmp(&a.attendees).then_with(|| a.country.cmp(&b.country)));
    top.truncate(TOP_COUNTRIES);
    AttendanceReport {
        unique_attendees: unique as u32,
        peak_concurrent: peak.max(0) as u32,
        average_minutes: if unique == 0 { 0.0 } else { total_ms as f64 / unique as f64 / 60_000.0 },
        top_countries: top,
    }
}

/// Total length of the union of the intervals.
fn merged_length(stays: &mut [(i64, i64)]) -> i64 {
    stays.sort_unstable();
    let mut total = 0;
    let mut current: Option<(i64, i64)> = None;
    for &(start, end) in stays.iter() {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    total + current.map_or(0, |(s, e)| e - s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenary_proto::{RoomId, UserId};

    fn visit(user: &str, country: Option<&str>, joined: i64, left: Option<i64>) -> Visit {
        Visit {
            room: RoomId::session("s").unwrap(),
            user: UserId::parse(user).unwrap(),
            country: country.map(str::to_owned),
            joined_at: joined,
            left_at: left,
        }
    }

    const MIN: i64 = 60_000;

    #[test]
    fn a_scripted_sequence_of_joins_and_leaves() {
        let visits = [
            // Ada: two tabs that overlap, 0-30 and 10-40 min: 40 minutes in all.
            visit("ada", Some("CH"), 0, Some(30 * MIN)),
            visit("ada", Some("CH"), 10 * MIN, Some(40 * MIN)),
            // Bob leaves at 20 and comes back at 20 (a reconnect): 20 + 10 minutes.
            visit("bob", Some("KE"), 0, Some(20 * MIN)),
            visit("bob", Some("KE"), 20 * MIN, Some(30 * MIN)),
            // Chen is still there at "now" = 50 min: 45 minutes.
            visit("chen", Some("CH"), 5 * MIN, None),
            // Dee gave no country: 10 minutes.
            visit("dee", None, 35 * MIN, Some(45 * MIN)),
        ];
        let r = report(&visits, 50 * MIN);
        assert_eq!(r.unique_attendees, 4);
        // At 10-20 min: ada x2, bob, chen = 4 connections; bob's reconnect does not add one.
        assert_eq!(r.peak_concurrent, 4);
        assert!((r.average_minutes - (40.0 + 30.0 + 45.0 + 10.0) / 4.0).abs() < 1e-9, "{}", r.average_minutes);
        assert_eq!(
            r.top_countries,
            vec![
                CountryCount { country: "CH".into(), attendees: 2 },
                CountryCount { country: "KE".into(), attendees: 1 }
            ]
        );
    }

    #[test]
    fn nothing_recorded() {
        let r = report(&[], 0);
        assert_eq!((r.unique_attendees, r.peak_concurrent, r.average_minutes), (0, 0, 0.0));
    }
}
