//! A run's results: a readable table on stdout, or one JSON line with `--json`.

use serde_json::Value;

#[derive(Debug, Default)]
pub struct Report {
    scenario: String,
    fields: Vec<(String, Value)>,
}

impl Report {
    pub fn new(scenario: &str) -> Report {
        Report { scenario: scenario.to_owned(), fields: Vec::new() }
    }

    pub fn add(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// One JSON object on one line, fields in the order they were added.
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"scenario\":{}", Value::from(self.scenario.clone()));
        for (name, value) in &self.fields {
            out.push_str(&format!(",{}:{}", Value::from(name.clone()), value));
        }
        out.push('}');
        out
    }

    pub fn to_table(&self) -> String {
        let width = self.fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut out = format!("plenary-load {}\n", self.scenario);
        for (name, value) in &self.fields {
            let shown = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
                other => other.to_string(),
            };
            out.push_str(&format!("  {name:<width$}  {shown}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_json() {
        let mut r = Report::new("keynote");
        r.add("viewers", 10).add("loss", 0.0).add("note", "ok");
        assert_eq!(r.to_json(), r#"{"scenario":"keynote","viewers":10,"loss":0.0,"note":"ok"}"#);
        assert!(r.to_table().contains("  viewers  10\n"));
        assert!(r.to_table().contains("  loss     0.00\n"));
    }
}
