//! The sObjects the emulator serves, described once: their fields (name, type, reference),
//! their records drawn from the org, SOQL over them ([`crate::emulator::soql`]: the SELECT
//! list projected in the fields' own spelling, relationship paths followed, `=` and `IN`
//! compared as Salesforce does, case-insensitively for text, 15- or 18-character ids),
//! the describe bodies, and the `columnMetadata` of a query.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

use super::super::config::Config;
use crate::emulator::soql::{Condition, Query, Value};
use crate::wire::rest::{ColumnMetadata, QueryColumns, RestError};

mod records;

#[cfg(test)]
use records::MADE;
use records::{FieldDef, field, invalid_field, record, rows};
pub(super) use records::{OBJECTS, ObjectDef, invalid_type, object, records};

/// A field path resolved against object `o`: its fields, in their own spelling, with the
/// objects a relationship step leads to.
fn resolve(
    o: &'static ObjectDef,
    path: &[String],
) -> Result<Vec<(&'static ObjectDef, &'static FieldDef)>, RestError> {
    let mut out = Vec::new();
    let mut obj = o;
    for (i, step) in path.iter().enumerate() {
        if i + 1 < path.len() {
            let Some(fd) = obj.fields.iter().find(|f| {
                f.reference
                    .is_some_and(|(_, rel)| rel.eq_ignore_ascii_case(step))
            }) else {
                return Err(invalid_field(&path.join("."), o.name));
            };
            out.push((obj, fd));
            let target = fd.reference.map_or("", |(t, _)| t);
            obj = object(target, true).ok_or_else(|| invalid_field(step, obj.name))?;
        } else {
            let fd = field(obj, step).ok_or_else(|| invalid_field(&path.join("."), o.name))?;
            out.push((obj, fd));
        }
    }
    Ok(out)
}

/// The records of the objects a query's relationship paths lead to, each object's built
/// once per query and indexed by Id: following a path record by record would otherwise
/// rebuild every related record for each one (on an org at its caps, 100,000 assignments
/// times 10,000 users).
#[derive(Default)]
struct Related {
    by_object: HashMap<&'static str, Indexed>,
}

/// An object's records and where each `Id` is among them.
type Indexed = (Vec<Map<String, Json>>, HashMap<String, usize>);

impl Related {
    /// The records of every object that a step of `paths` refers to.
    fn of<'a>(
        cfg: &Config,
        version: &str,
        paths: impl Iterator<Item = &'a [(&'static ObjectDef, &'static FieldDef)]>,
    ) -> Self {
        let mut r = Related::default();
        for steps in paths {
            for (_, fd) in steps {
                let Some(to) = fd.reference.and_then(|(target, _)| object(target, true)) else {
                    continue;
                };
                r.by_object.entry(to.name).or_insert_with(|| {
                    let recs: Vec<_> = records(cfg, to, version).collect();
                    let ix = recs
                        .iter()
                        .enumerate()
                        .filter_map(|(i, r)| Some((r.get("Id")?.as_str()?.to_owned(), i)))
                        .collect();
                    (recs, ix)
                });
            }
        }
        r
    }

    /// The record of `o` with this `Id`.
    fn get(&self, o: &ObjectDef, id: &str) -> Option<&Map<String, Json>> {
        let (recs, ix) = self.by_object.get(o.name)?;
        ix.get(id).and_then(|&i| recs.get(i))
    }
}

fn value_at(
    related: &Related,
    rec: &Map<String, Json>,
    steps: &[(&'static ObjectDef, &'static FieldDef)],
) -> Json {
    let Some(((_, fd), rest)) = steps.split_first() else {
        return Json::Null;
    };
    let v = rec.get(fd.name).cloned().unwrap_or(Json::Null);
    if rest.is_empty() {
        return v;
    }
    let Some(id) = v.as_str() else {
        return Json::Null;
    };
    let Some((target, _)) = fd.reference else {
        return Json::Null;
    };
    let Some(to) = object(target, true) else {
        return Json::Null;
    };
    related
        .get(to, id)
        .map_or(Json::Null, |r| value_at(related, r, rest))
}

fn matches(v: &Json, want: &Value) -> bool {
    match (v, want) {
        (Json::String(s), Value::Str(w)) => {
            s.eq_ignore_ascii_case(w)
                || (w.len() == 15 && s.len() == 18 && s.starts_with(w.as_str()))
        }
        (Json::Bool(b), Value::Bool(w)) => b == w,
        (Json::Null, Value::Null) => true,
        (Json::Number(n), Value::Num(w)) => n.to_string() == *w,
        _ => false,
    }
}

/// Which records of a query's answer to return: `size` from the `offset`th match on, the
/// scan starting at row `start` (0, or where the page before ended, with `offset` matches
/// before it) and `total` the number of matches when a page before counted them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Page {
    pub(super) offset: usize,
    pub(super) start: usize,
    pub(super) size: usize,
    pub(super) total: Option<usize>,
}

impl Page {
    /// Every record.
    pub(super) const ALL: Page = Page::first(usize::MAX);

    /// The first `size` records.
    pub(super) const fn first(size: usize) -> Page {
        Page {
            offset: 0,
            start: 0,
            size,
            total: None,
        }
    }
}

/// A page of a query's answer.
pub(super) struct Answer {
    /// The page's records.
    pub(super) records: Vec<Json>,
    /// The matches (`totalSize`).
    pub(super) total: usize,
    /// The records the query answers with: the matches within its `LIMIT`.
    pub(super) answered: usize,
    /// The row the next page starts at, when the scan reached it.
    pub(super) next_start: Option<usize>,
}

/// Run a query. `tooling` selects the Tooling API's objects.
pub(super) fn run(
    cfg: &Config,
    q: &Query,
    version: &str,
    tooling: bool,
    page: Page,
) -> Result<Answer, RestError> {
    let o = object(&q.from, tooling).ok_or_else(|| invalid_type(&q.from))?;
    if o.tooling_only {
        // No records (the org is no production org with sandboxes): any field is fine.
        return Ok(Answer {
            records: Vec::new(),
            total: 0,
            answered: 0,
            next_start: None,
        });
    }
    let selected = q
        .fields
        .iter()
        .map(|p| resolve(o, p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut filters = Vec::new();
    for c in &q.filter {
        match c {
            Condition::Eq(p, v) => filters.push((resolve(o, p)?, vec![v.clone()])),
            Condition::In(p, vs) => filters.push((resolve(o, p)?, vs.clone())),
            Condition::InQuery(p, sub) => {
                let rows = run(cfg, sub, version, tooling, Page::ALL)?.records;
                let name = sub.fields[0].last().cloned().unwrap_or_default();
                let values = rows
                    .iter()
                    .filter_map(|r| {
                        r.as_object()?
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                            .and_then(|(_, v)| v.as_str().map(|s| Value::Str(s.to_owned())))
                    })
                    .collect();
                filters.push((resolve(o, p)?, values));
            }
        }
    }
    let related = Related::of(
        cfg,
        version,
        selected
            .iter()
            .map(Vec::as_slice)
            .chain(filters.iter().map(|(steps, _)| steps.as_slice())),
    );
    let limit = q.limit.unwrap_or(usize::MAX);
    let end = page.offset.saturating_add(page.size).min(limit);
    let mut out = Vec::new();
    let mut next_start = None;
    // Matches up to the row being looked at (those before `start` included).
    let mut matched = if page.start > 0 { page.offset } else { 0 };
    for (i, row) in rows(cfg, o).enumerate().skip(page.start) {
        if next_start.is_some() && page.total.is_some() {
            break;
        }
        let rec = (!filters.is_empty()).then(|| record(cfg, o, version, row));
        let keep = rec.as_ref().is_none_or(|rec| {
            filters.iter().all(|(steps, values)| {
                let v = value_at(&related, rec, steps);
                values.iter().any(|w| matches(&v, w))
            })
        });
        if !keep {
            continue;
        }
        matched += 1;
        if matched <= page.offset {
            continue;
        }
        if matched > end {
            next_start.get_or_insert(i);
            continue;
        }
        let rec = rec.unwrap_or_else(|| record(cfg, o, version, row));
        let mut m = Map::new();
        m.insert(
            "attributes".into(),
            rec.get("attributes").cloned().unwrap_or(Json::Null),
        );
        for steps in &selected {
            project(&related, &rec, steps, &mut m);
        }
        out.push(Json::Object(m));
    }
    let total = match page.total {
        Some(t) if next_start.is_some() => t,
        _ => matched,
    };
    Ok(Answer {
        records: out,
        total,
        answered: total.min(limit),
        next_start,
    })
}

fn project(
    related_records: &Related,
    rec: &Map<String, Json>,
    steps: &[(&'static ObjectDef, &'static FieldDef)],
    into: &mut Map<String, Json>,
) {
    let Some(((_, fd), rest)) = steps.split_first() else {
        return;
    };
    if rest.is_empty() {
        into.insert(
            fd.name.into(),
            rec.get(fd.name).cloned().unwrap_or(Json::Null),
        );
        return;
    }
    let (Some((target, rel)), Some(id)) = (fd.reference, rec.get(fd.name).and_then(Json::as_str))
    else {
        into.insert(fd.reference.map_or(fd.name, |(_, r)| r).into(), Json::Null);
        return;
    };
    let Some(to) = object(target, true) else {
        return;
    };
    let Some(related) = related_records.get(to, id) else {
        into.insert(rel.into(), Json::Null);
        return;
    };
    let entry = into.entry(rel).or_insert_with(|| {
        let mut m = Map::new();
        m.insert(
            "attributes".into(),
            related.get("attributes").cloned().unwrap_or(Json::Null),
        );
        Json::Object(m)
    });
    if let Json::Object(m) = entry {
        project(related_records, related, rest, m);
    }
}

fn column(fd: &FieldDef, joins: Vec<ColumnMetadata>, name: &str) -> ColumnMetadata {
    ColumnMetadata {
        aggregate: false,
        apex_type: Some(
            match fd.kind {
                "id" | "reference" => "Id",
                "boolean" => "Boolean",
                "datetime" => "Datetime",
                _ => "String",
            }
            .into(),
        ),
        boolean_type: fd.kind == "boolean",
        column_name: name.to_owned(),
        custom: false,
        display_name: name.to_owned(),
        foreign_key_name: None,
        insertable: false,
        join_columns: joins,
        number_type: false,
        text_type: matches!(fd.kind, "string" | "email" | "picklist"),
        updatable: false,
    }
}

/// `query?q=…&columns=true`: the columns of a query, relationship paths as join columns.
pub(super) fn columns(q: &Query, tooling: bool) -> Result<QueryColumns, RestError> {
    let o = object(&q.from, tooling).ok_or_else(|| invalid_type(&q.from))?;
    let mut cols = Vec::new();
    if o.tooling_only {
        return Ok(QueryColumns {
            column_metadata: cols,
            entity_name: o.name.into(),
            group_by: false,
            id_selected: false,
            key_prefix: Some(o.prefix.into()),
        });
    }
    let mut id_selected = false;
    for p in &q.fields {
        let steps = resolve(o, p)?;
        id_selected |= steps.len() == 1 && steps[0].1.name == "Id";
        let mut col: Option<ColumnMetadata> = None;
        for (i, (_, fd)) in steps.iter().enumerate().rev() {
            let name = if i + 1 < steps.len() {
                fd.reference.map_or(fd.name, |(_, rel)| rel)
            } else {
                fd.name
            };
            col = Some(column(fd, col.into_iter().collect(), name));
        }
        cols.extend(col);
    }
    Ok(QueryColumns {
        column_metadata: cols,
        entity_name: o.name.into(),
        group_by: false,
        id_selected,
        key_prefix: Some(o.prefix.into()),
    })
}

/// The summary of `o` in the describe-global list.
pub(super) fn summary(o: &ObjectDef, version: &str) -> Json {
    let base = format!("/services/data/{version}/sobjects/{}", o.name);
    json!({
        "activateable": false, "createable": o.createable, "custom": false, "customSetting": false,
        "deletable": false, "deprecatedAndHidden": false, "feedEnabled": false, "hasSubtypes": false,
        "isSubtype": false, "keyPrefix": o.prefix, "label": o.label, "labelPlural": o.plural,
        "layoutable": false, "mergeable": false, "mruEnabled": false, "name": o.name,
        "queryable": true, "replicateable": false, "retrieveable": true, "searchable": false,
        "triggerable": false, "undeletable": false, "updateable": false,
        "urls": {"sobject": base, "describe": format!("{base}/describe"), "rowTemplate": format!("{base}/{{ID}}")}
    })
}

/// `GET …/sobjects/<Type>/describe`.
pub(super) fn describe(o: &ObjectDef, version: &str) -> Json {
    let mut d = summary(o, version);
    let fields: Vec<Json> = o
        .fields
        .iter()
        .map(|fd| {
            json!({
                "aggregatable": true, "autoNumber": false, "byteLength": if fd.kind == "boolean" { 0 } else { 240 },
                "calculated": false, "caseSensitive": false, "createable": o.createable && fd.name != "Id",
                "custom": false, "defaultedOnCreate": fd.kind == "boolean" || fd.name == "Id", "filterable": true,
                "groupable": fd.kind != "boolean", "idLookup": fd.name == "Id" || fd.name == "Username",
                "label": fd.label, "length": if fd.kind == "boolean" { 0 } else { 80 }, "name": fd.name,
                "nameField": fd.name == "Name", "nillable": !matches!(fd.kind, "id" | "boolean"),
                "referenceTo": fd.reference.map_or(vec![], |(t, _)| vec![t]),
                "relationshipName": fd.reference.map(|(_, rel)| rel),
                "soapType": match fd.kind { "id" | "reference" => "tns:ID", "boolean" => "xsd:boolean", "datetime" => "xsd:dateTime", _ => "xsd:string" },
                "sortable": true, "type": fd.kind, "unique": fd.name == "Username", "updateable": false,
                "picklistValues": []
            })
        })
        .collect();
    if let Json::Object(m) = &mut d {
        m.insert("fields".into(), Json::Array(fields));
        m.insert("childRelationships".into(), json!([]));
        m.insert("recordTypeInfos".into(), json!([]));
        m.insert("supportedScopes".into(), json!([]));
    }
    d
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::emulator::soql::parse;

    /// acme.toml with `users` more users, each assigned five more permission sets.
    fn org(users: usize) -> Config {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/emulator");
        let mut toml = std::fs::read_to_string(dir.join("acme.toml")).unwrap();
        for i in 0..5 {
            writeln!(toml, "[[permission_sets]]\nname = \"Set_{i}\"").unwrap();
        }
        for i in 0..users {
            writeln!(
                toml,
                "[[users]]\nusername = \"u{i}@load.example.com\"\npermission_sets = [\"Set_0\", \"Set_1\", \"Set_2\", \"Set_3\", \"Set_4\"]"
            )
            .unwrap();
        }
        Config::from_toml(&toml, &mut |p| std::fs::read(dir.join(p))).unwrap()
    }

    /// Regression: a relationship path (`Assignee.Username`, `PermissionSet.Name`) rebuilt
    /// every record of the related object for each record it was followed from (here
    /// 2,500 assignments times 500 users: over a million records; an org at its caps, a
    /// billion, for hours under the org's lock). Counted, not timed: the query makes each
    /// assignment once to filter it and each user and permission set once to index them.
    #[test]
    fn a_relationship_path_makes_each_related_record_once_per_query() {
        let cfg = org(500);
        let q = parse(
            "SELECT Id, PermissionSet.Name FROM PermissionSetAssignment \
             WHERE Assignee.Username = 'u499@load.example.com' \
             AND PermissionSet.IsOwnedByProfile = false",
        )
        .unwrap();
        MADE.with(|m| m.set(0));
        let a = run(&cfg, &q, "v66.0", false, Page::ALL).unwrap();
        let made = MADE.with(std::cell::Cell::get);
        assert_eq!(a.total, 5);
        let names: Vec<_> = a
            .records
            .iter()
            .map(|r| r["PermissionSet"]["Name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Set_0", "Set_1", "Set_2", "Set_3", "Set_4"]);
        // Every user has the assignment of their profile's permission set too.
        let assignments: usize = cfg.users.iter().map(|u| u.permission_sets.len() + 1).sum();
        assert!(assignments >= 3000, "{assignments}");
        let bound = assignments + cfg.users.len() + cfg.permission_sets.len() + cfg.profiles.len();
        assert!(
            made <= bound,
            "the query made {made} records; an assignment, user or permission set each once is {bound}"
        );
    }
}
