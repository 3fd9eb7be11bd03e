//! XML comparison: a namespace-resolved tree, children in order.

use std::collections::{BTreeMap, HashMap};

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::*;

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
pub(super) struct XNode {
    pub(super) ns: Option<String>,
    pub(super) local: String,
    /// (namespace URI, local name) -> value; namespace declarations excluded.
    pub(super) attrs: BTreeMap<(Option<String>, String), String>,
    /// Namespace declarations written on this element: prefix ("" = default) -> URI.
    pub(super) decls: BTreeMap<String, String>,
    pub(super) children: Vec<XNode>,
    pub(super) text: String,
}

impl XNode {
    pub(super) fn display_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.local),
            None => self.local.clone(),
        }
    }
}

pub(super) fn attr_display(k: &(Option<String>, String)) -> String {
    match &k.0 {
        Some(ns) => format!("{{{ns}}}{}", k.1),
        None => k.1.clone(),
    }
}

pub(super) fn resolved_ns(r: ResolveResult<'_>) -> Result<Option<String>, String> {
    match r {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => Ok(Some(String::from_utf8_lossy(ns.as_ref()).into_owned())),
        ResolveResult::Unknown(p) => Err(format!("unknown namespace prefix {:?}", String::from_utf8_lossy(&p))),
    }
}

pub(super) fn parse_xml(text: &str) -> Result<XNode, String> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<XNode> = Vec::new();
    let mut root: Option<XNode> = None;
    loop {
        let (ns, ev) = match reader.read_resolved_event() {
            Ok((ns, ev)) => (resolved_ns(ns), ev),
            Err(e) => return Err(e.to_string()),
        };
        let ns = ns?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut node = XNode {
                    ns,
                    local: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..XNode::default()
                };
                for attr in e.attributes().with_checks(true) {
                    let attr = attr.map_err(|e| e.to_string())?;
                    let value = attr.unescape_value().map_err(|e| e.to_string())?.into_owned();
                    if let Some(decl) = attr.key.as_namespace_binding() {
                        let prefix = match decl {
                            quick_xml::name::PrefixDeclaration::Default => String::new(),
                            quick_xml::name::PrefixDeclaration::Named(p) => String::from_utf8_lossy(p).into_owned(),
                        };
                        node.decls.insert(prefix, value);
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(attr.key);
                    let ans = resolved_ns(ans)?;
                    let local = String::from_utf8_lossy(local.as_ref()).into_owned();
                    node.attrs.insert((ans, local), value);
                }
                if matches!(ev, Event::Start(_)) {
                    stack.push(node);
                } else {
                    attach(&mut stack, &mut root, node)?;
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or("unbalanced end tag")?;
                node.text = node.text.trim().to_string();
                attach(&mut stack, &mut root, node)?;
            }
            Event::Text(ref t) => {
                let s = t.decode().map_err(|e| e.to_string())?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(ref t) => {
                let s = t.decode().map_err(|e| e.to_string())?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(ref r) => {
                let s = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| e.to_string())?.ok_or("bad character reference")?.to_string()
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    match name.as_ref() {
                        "amp" => "&".to_string(),
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        other => return Err(format!("unknown entity &{other};")),
                    }
                };
                push_text(&mut stack, &s)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element at end of document".to_string());
    }
    root.ok_or_else(|| "no root element".to_string())
}

pub(super) fn push_text(stack: &mut [XNode], s: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(n) => {
            n.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(format!("text outside the root element: {s:?}")),
    }
}

pub(super) fn attach(stack: &mut [XNode], root: &mut Option<XNode>, node: XNode) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => {
            if root.is_some() {
                return Err("more than one root element".to_string());
            }
            *root = Some(node);
        }
    }
    Ok(())
}

pub(super) fn cmp_xml(cx: &mut Cx, path: &str, g: &XNode, a: &XNode) {
    // Namespace declarations required by the golden.
    for (prefix, uri) in &g.decls {
        let shown = if prefix.is_empty() { "xmlns".to_string() } else { format!("xmlns:{prefix}") };
        match a.decls.get(prefix) {
            Some(v) if v == uri => {}
            Some(v) => cx.err(format!("{path}: expected {shown}=\"{uri}\" but got {shown}=\"{v}\"")),
            None => cx.err(format!("{path}: missing namespace declaration {shown}=\"{uri}\"")),
        }
    }
    // Attributes.
    for (k, gv) in &g.attrs {
        let ap = format!("{path}/@{}", attr_display(k));
        match a.attrs.get(k) {
            Some(av) => cx.match_str(&ap, gv, av),
            None => cx.err(format!("{ap}: missing attribute (expected {gv:?})")),
        }
    }
    for (k, av) in &a.attrs {
        if !g.attrs.contains_key(k) {
            cx.err(format!("{path}/@{}: unexpected extra attribute (value {av:?})", attr_display(k)));
        }
    }
    // Text.
    if g.children.is_empty() || !g.text.is_empty() || !a.text.is_empty() {
        let before = cx.errs.len();
        cx.match_str(path, &g.text, &a.text);
        if cx.errs.len() > before {
            if let Some(last) = cx.errs.last_mut() {
                *last = format!("{last} (element text)");
            }
        }
    }
    // Children, strictly in order.
    let gnames: Vec<String> = g.children.iter().map(XNode::display_name).collect();
    let anames: Vec<String> = a.children.iter().map(XNode::display_name).collect();
    if gnames != anames {
        cx.err(format!(
            "{path}: child elements differ\n      expected: {}\n      actual:   {}",
            short_names(&g.children),
            short_names(&a.children)
        ));
        // Align by longest common subsequence of names, report the rest, compare the pairs.
        let pairs = lcs_pairs(&gnames, &anames);
        let (mut gi, mut ai) = (0usize, 0usize);
        for &(pg, pa) in pairs.iter().chain(std::iter::once(&(gnames.len(), anames.len()))) {
            while gi < pg {
                cx.err(format!(
                    "{path}: missing child element <{}> (golden position {})",
                    g.children[gi].local,
                    gi + 1
                ));
                gi += 1;
            }
            while ai < pa {
                cx.err(format!(
                    "{path}: unexpected child element <{}> (actual position {})",
                    a.children[ai].local,
                    ai + 1
                ));
                ai += 1;
            }
            gi += 1;
            ai += 1;
        }
        let gsel: Vec<&XNode> = pairs.iter().map(|&(x, _)| &g.children[x]).collect();
        let asel: Vec<&XNode> = pairs.iter().map(|&(_, y)| &a.children[y]).collect();
        compare_children(cx, path, &gsel, &asel);
        return;
    }
    let gsel: Vec<&XNode> = g.children.iter().collect();
    let asel: Vec<&XNode> = a.children.iter().collect();
    compare_children(cx, path, &gsel, &asel);
}

/// Index pairs of a longest common subsequence of two name lists.
pub(super) fn lcs_pairs(x: &[String], y: &[String]) -> Vec<(usize, usize)> {
    let (n, m) = (x.len(), y.len());
    let mut t = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if x[i] == y[j] { t[i + 1][j + 1] + 1 } else { t[i + 1][j].max(t[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if x[i] == y[j] {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

pub(super) fn compare_children(cx: &mut Cx, path: &str, gs: &[&XNode], as_: &[&XNode]) {
    let mut totals: HashMap<String, usize> = HashMap::new();
    for c in gs {
        *totals.entry(c.display_name()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (gc, ac) in gs.iter().zip(as_.iter()) {
        let name = gc.display_name();
        let n = seen.entry(name.clone()).or_default();
        *n += 1;
        let child_path =
            if totals[&name] > 1 { format!("{path}/{}[{n}]", gc.local) } else { format!("{path}/{}", gc.local) };
        cmp_xml(cx, &child_path, gc, ac);
    }
}

pub(super) fn short_names(nodes: &[XNode]) -> String {
    let v: Vec<&str> = nodes.iter().map(|n| n.local.as_str()).collect();
    let nss: Vec<&str> = nodes.iter().filter_map(|n| n.ns.as_deref()).collect();
    let mut uniq: Vec<&str> = Vec::new();
    for n in nss {
        if !uniq.contains(&n) {
            uniq.push(n);
        }
    }
    format!("[{}] (namespaces: {:?})", v.join(", "), uniq)
}

pub(super) fn pretty_xml(s: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(s);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => {
                if writer.write_event(e).is_err() {
                    return s.to_string();
                }
            }
            Err(_) => return s.to_string(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or_else(|_| s.to_string())
}
