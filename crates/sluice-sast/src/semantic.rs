//! What a name means and whether a value is a constant: the two facts about a file that cut
//! most false positives and negatives of syntax-only rules.
//!
//! The model is built from the same traversal that runs the rules ([`Model::observe`] sees
//! every node once) and is flow-insensitive: a name bound once in the file, anywhere, to an
//! import or a constant means that everywhere. That is the right trade for security rules:
//! `import subprocess as sp` is at the top of the file, and `QUERY = "SELECT …"` is a
//! module constant. A name bound in several ways (a parameter somewhere, or reassigned) is
//! never treated as a constant, so a constant verdict errs towards reporting.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use ast_grep_core::tree_sitter::StrDoc;
use ast_grep_core::Node;
use ast_grep_language::SupportLang;

use crate::lang::Syntax;
use crate::spec::VarSemantic;

pub(crate) type SNode<'t> = Node<'t, StrDoc<SupportLang>>;

/// A node's source text, sliced without re-validating UTF-8 (the document is a `String`).
pub(crate) fn src<'t>(node: &SNode<'t>) -> &'t str {
    node.get_doc().src.get(node.range()).unwrap_or_default()
}

/// How many alias or constant hops are followed (`a = b`, `b = c`…), and how deep an
/// expression is examined; beyond that a name is unknown and a value not constant.
const MAX_HOPS: usize = 12;
const MAX_EXPR_DEPTH: usize = 48;
/// Variables followed back from a sink towards a source, and nodes examined per expression.
const MAX_TAINT_HOPS: usize = 6;
const MAX_TAINT_NODES: usize = 20_000;
/// Variables one constant query may expand; past that the value counts as not constant.
const MAX_LITERAL_NAMES: usize = 256;

/// What `web-input` stands for: objects holding an HTTP request's attacker-controlled parts.
const PY_WEB_INPUT: &[&str] = &[
    // Flask / Quart / Werkzeug: `from flask import request`.
    "flask.request",
    "quart.request",
    // Django (a view's `request` parameter, or `self.request` in class-based views), Django
    // REST framework, and unimported Flask-style names.
    "request.GET",
    "request.POST",
    "request.COOKIES",
    "request.META",
    "request.FILES",
    "request.body",
    "request.headers",
    "request.query_params",
    "request.data",
    "request.args",
    "request.form",
    "request.values",
    "request.json",
    "request.cookies",
    "request.get_json",
    "request.files",
    "request.path",
    "request.full_path",
    "request.url",
    "request.query_string",
    "self.request.GET",
    "self.request.POST",
    "self.request.COOKIES",
    "self.request.META",
    "self.request.body",
    "self.request.query_params",
    "self.request.data",
    "self.request.arguments",
    // Tornado.
    "self.get_argument",
    "self.get_arguments",
    "self.get_query_argument",
    "self.get_body_argument",
    "self.get_cookie",
];
/// What `web-params` stands for: only the query string and body parameters of a request,
/// for sinks where the path or headers are not attacker-chosen in a useful way (redirects).
const PY_WEB_PARAMS: &[&str] = &[
    "flask.request.args",
    "flask.request.form",
    "flask.request.values",
    "flask.request.json",
    "flask.request.get_json",
    "flask.request.data",
    "quart.request.args",
    "quart.request.form",
    "request.GET",
    "request.POST",
    "request.query_params",
    "request.data",
    "request.args",
    "request.form",
    "request.values",
    "request.json",
    "request.get_json",
    "self.request.GET",
    "self.request.POST",
    "self.request.query_params",
    "self.request.data",
    "self.get_argument",
    "self.get_arguments",
    "self.get_query_argument",
    "self.get_body_argument",
];
const JS_WEB_PARAMS: &[&str] = &[
    "req.query",
    "req.params",
    "req.body",
    "request.query",
    "request.params",
    "request.body",
    "ctx.query",
    "ctx.params",
    "ctx.request.body",
    "ctx.request.query",
];
const JS_WEB_INPUT: &[&str] = &[
    // Express, and Koa's `ctx`.
    "req.query",
    "req.params",
    "req.body",
    "req.cookies",
    "req.headers",
    "req.url",
    "req.originalUrl",
    "req.path",
    "req.get",
    "req.header",
    "request.query",
    "request.params",
    "request.body",
    "request.cookies",
    "request.headers",
    "request.url",
    "ctx.query",
    "ctx.params",
    "ctx.request.body",
    "ctx.request.query",
    "ctx.headers",
    "ctx.url",
];
/// Go `net/http` handlers (`r *http.Request` by convention), gin (`c`) and echo (`c`).
const GO_WEB_INPUT: &[&str] = &[
    "r.FormValue",
    "r.PostFormValue",
    "r.Form",
    "r.PostForm",
    "r.URL",
    "r.Header",
    "r.Body",
    "r.Cookie",
    "r.Referer",
    "req.FormValue",
    "req.PostFormValue",
    "req.Form",
    "req.URL",
    "req.Header",
    "req.Body",
    "c.Query",
    "c.DefaultQuery",
    "c.Param",
    "c.PostForm",
    "c.FormValue",
    "c.QueryParam",
    "c.GetHeader",
];
const GO_WEB_PARAMS: &[&str] = &[
    "r.FormValue",
    "r.PostFormValue",
    "r.Form",
    "r.PostForm",
    "r.URL.Query",
    "req.FormValue",
    "req.URL.Query",
    "c.Query",
    "c.DefaultQuery",
    "c.Param",
    "c.PostForm",
    "c.FormValue",
    "c.QueryParam",
];
/// Java servlets (`request`/`req`, an `HttpServletRequest`).
const JAVA_WEB_INPUT: &[&str] = &[
    "request.getParameter",
    "request.getParameterValues",
    "request.getParameterMap",
    "request.getHeader",
    "request.getHeaders",
    "request.getQueryString",
    "request.getCookies",
    "request.getInputStream",
    "request.getReader",
    "request.getRequestURI",
    "req.getParameter",
    "req.getParameterValues",
    "req.getHeader",
    "req.getQueryString",
    "req.getInputStream",
];
const JAVA_WEB_PARAMS: &[&str] = &[
    "request.getParameter",
    "request.getParameterValues",
    "request.getParameterMap",
    "req.getParameter",
    "req.getParameterValues",
];
/// Rails and Sinatra.
const RUBY_WEB_INPUT: &[&str] =
    &["params", "cookies", "request.params", "request.headers", "request.body", "request.env"];
const RUBY_WEB_PARAMS: &[&str] =
    &["params", "request.params", "request.query_parameters", "request.request_parameters"];
/// PHP's superglobals.
const PHP_WEB_INPUT: &[&str] = &["$_GET", "$_POST", "$_REQUEST", "$_COOKIE", "$_FILES", "$_SERVER"];
const PHP_WEB_PARAMS: &[&str] = &["$_GET", "$_POST", "$_REQUEST"];
const JS_DOM_INPUT: &[&str] = &[
    "location.hash",
    "location.search",
    "location.href",
    "window.location.hash",
    "window.location.search",
    "window.location.href",
    "document.location",
    "document.URL",
    "document.documentURI",
    "document.referrer",
    "document.cookie",
    "window.name",
];

/// A scope: the node id of a function (or class) body, or [`MODULE`].
pub(crate) type Scope = usize;
/// The file's top level.
pub(crate) const MODULE: Scope = usize::MAX;

/// Node kinds that open a scope, and whether they are classes (whose names methods do not
/// see without `self.`/`this.`).
pub(crate) fn scope_kind(kind: &str, syn: Syntax) -> Option<bool> {
    let function = match syn {
        Syntax::Js => matches!(
            kind,
            "function_declaration"
                | "function_expression"
                | "function"
                | "arrow_function"
                | "method_definition"
                | "generator_function_declaration"
                | "generator_function"
        ),
        Syntax::Python => matches!(kind, "function_definition" | "lambda"),
        Syntax::Go => matches!(kind, "function_declaration" | "method_declaration" | "func_literal"),
        Syntax::Java => matches!(kind, "method_declaration" | "constructor_declaration" | "lambda_expression"),
        Syntax::Rust => matches!(kind, "function_item" | "closure_expression"),
        Syntax::Ruby => matches!(kind, "method" | "singleton_method" | "block" | "do_block" | "lambda"),
        Syntax::Php => {
            matches!(kind, "function_definition" | "method_declaration" | "anonymous_function" | "arrow_function")
        }
        // Shell variables are global unless declared `local`; one scope is the closer model.
        Syntax::Bash => false,
    };
    let class = match syn {
        Syntax::Js => matches!(kind, "class_declaration" | "class"),
        Syntax::Python => kind == "class_definition",
        Syntax::Java => matches!(kind, "class_declaration" | "enum_declaration" | "interface_declaration"),
        Syntax::Ruby => matches!(kind, "class" | "module"),
        Syntax::Php => matches!(kind, "class_declaration" | "trait_declaration"),
        Syntax::Go | Syntax::Rust | Syntax::Bash => false,
    };
    if function {
        Some(false)
    } else if class {
        Some(true)
    } else {
        None
    }
}

/// A file's names: imports, aliases and the values assigned to each name, per scope.
///
/// Scopes follow the language closely enough for security rules: a name is looked up in the
/// innermost enclosing function that binds it, then outwards to the module; classes are
/// skipped except for code directly in their body. Within a scope the model is
/// flow-insensitive: every value ever assigned to a name counts.
pub(crate) struct Model<'t> {
    syn: Syntax,
    /// `syn == Syntax::Js`, the common test.
    js: bool,
    /// The scope of the node being observed, and whether it is a class body.
    scope: Scope,
    in_class: bool,
    /// Local name → the dotted names it was imported as (any scope).
    imports: HashMap<String, Vec<String>>,
    /// `from m import *` (Python): bare names may come from these modules.
    star_modules: Vec<String>,
    /// Name → (scope, value) of every assignment (`x = v`, `x += v`, `const x = v`, `x := v`).
    assigned: HashMap<String, Vec<(Scope, SNode<'t>)>>,
    /// JavaScript destructuring: local name → (scope, the destructured value, the key taken).
    destructured: HashMap<String, Vec<(Scope, SNode<'t>, String)>>,
    /// Name → scopes where it is also bound without a single value: parameters, loop
    /// targets, tuple unpacking, `catch (e)`, definitions.
    rebound: HashMap<String, Vec<Scope>>,
    /// Name → scopes where a function or class of that name is defined: it shadows builtins.
    defined: HashMap<String, Vec<Scope>>,
    /// Attribute name → values assigned to `self.name`, `this.name` or in a class body.
    attributes: HashMap<String, Vec<SNode<'t>>>,
    /// Whether each (scope, name) examined so far holds only constants.
    literal_names: RefCell<HashMap<(Scope, String), bool>>,
    /// Names a literal query may still expand (see `MAX_LITERAL_NAMES`).
    literal_budget: Cell<usize>,
}

impl<'t> Model<'t> {
    pub(crate) fn new(syn: Syntax) -> Self {
        Model {
            syn,
            js: syn == Syntax::Js,
            scope: MODULE,
            in_class: false,
            imports: HashMap::new(),
            star_modules: Vec::new(),
            assigned: HashMap::new(),
            destructured: HashMap::new(),
            rebound: HashMap::new(),
            defined: HashMap::new(),
            attributes: HashMap::new(),
            literal_names: RefCell::new(HashMap::new()),
            literal_budget: Cell::new(0),
        }
    }

    /// Records what `node` binds, if anything. `scope` is the innermost scope around the
    /// node (not the node itself when it opens one), `in_class` whether that is a class.
    pub(crate) fn observe(&mut self, node: &SNode<'t>, scope: Scope, in_class: bool) {
        self.scope = scope;
        self.in_class = in_class;
        match self.syn {
            Syntax::Js => self.observe_js(node),
            Syntax::Python => self.observe_py(node),
            Syntax::Go => self.observe_go(node),
            Syntax::Java => self.observe_java(node),
            Syntax::Rust => self.observe_rust(node),
            Syntax::Ruby => self.observe_ruby(node),
            Syntax::Php => self.observe_php(node),
            Syntax::Bash => self.observe_bash(node),
        }
    }

    fn import(&mut self, local: String, canonical: String) {
        self.imports.entry(local).or_default().push(canonical);
    }

    fn assign(&mut self, name: &SNode<'t>, value: SNode<'t>) {
        let name = src(name);
        if self.in_class {
            self.attributes.entry(name.to_owned()).or_default().push(value.clone());
        }
        self.assigned.entry(name.to_owned()).or_default().push((self.scope, value));
    }

    fn rebind(&mut self, name: &SNode<'t>) {
        self.rebound.entry(src(name).to_owned()).or_default().push(self.scope);
    }

    fn define(&mut self, name: &SNode<'t>) {
        self.rebind(name);
        // Methods are reached through `self.`/`this.`: they do not shadow bare names.
        if !self.in_class {
            self.defined.entry(src(name).to_owned()).or_default().push(self.scope);
        }
    }

    /// `self.x = v`, `cls.x = v`, `this.x = v`: a value of attribute `x`.
    fn assign_attribute(&mut self, target: &SNode<'t>, value: SNode<'t>) {
        let (object, member) = if self.js {
            (target.field("object"), target.field("property"))
        } else {
            (target.field("object"), target.field("attribute"))
        };
        let (Some(object), Some(member)) = (object, member) else { return };
        if matches!(src(&object), "self" | "cls" | "this") {
            self.attributes.entry(src(&member).to_owned()).or_default().push(value);
        }
    }

    /// Marks every identifier in a binding pattern (`a, (b, *c)`, `{x, y: [z]}`) as rebound.
    fn rebind_all(&mut self, pattern: &SNode<'t>) {
        let ids = ["identifier", "shorthand_property_identifier_pattern", "variable_name"];
        if ids.contains(&&*pattern.kind()) {
            self.rebind(pattern);
            return;
        }
        // Binding patterns are small; a bounded walk keeps a pathological one cheap.
        for node in pattern.dfs().take(512) {
            if ids.contains(&&*node.kind()) {
                self.rebind(&node);
            }
        }
    }

    /// Go: `import x "os/exec"` binds `x` to `os/exec` (else the path's last element);
    /// `:=`, `=`, `var` and `const` assign; parameters and `range` variables rebind.
    fn observe_go(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "import_spec" => {
                let Some(path) = node.field("path") else { return };
                let path = unquote(src(&path));
                let local = match node.field("name") {
                    Some(name) if name.kind() == "package_identifier" => src(&name).to_owned(),
                    Some(_) => return, // `.` and `_` imports bind no name
                    // `gopkg.in/yaml.v3` is package `yaml`; `math/rand/v2` is `rand`.
                    None => {
                        let mut parts = path.rsplit('/');
                        let last = parts.next().unwrap_or_default();
                        let last = if last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()) {
                            parts.next().unwrap_or(last)
                        } else {
                            last
                        };
                        last.split('.').next().unwrap_or(last).to_owned()
                    }
                };
                self.import(local, path);
            }
            "short_var_declaration" | "assignment_statement" | "var_spec" | "const_spec" => {
                let names: Vec<SNode<'t>> = match (node.field("left"), node.field("name")) {
                    (Some(left), _) => left.named_children().collect(),
                    (None, Some(_)) => node.field_children("name").collect(),
                    _ => return,
                };
                let values: Vec<SNode<'t>> = node
                    .field("right")
                    .or_else(|| node.field("value"))
                    .map(|v| v.named_children().collect())
                    .unwrap_or_default();
                let compound =
                    node.kind() == "assignment_statement" && node.field("operator").is_some_and(|o| src(&o) != "=");
                for (i, name) in names.iter().enumerate() {
                    if name.kind() != "identifier" {
                        continue;
                    }
                    match values.get(i) {
                        Some(v) if names.len() == values.len() && !compound => self.assign(name, v.clone()),
                        Some(v) if compound => self.assign(name, v.clone()),
                        _ => self.rebind(name),
                    }
                }
            }
            "parameter_declaration" | "variadic_parameter_declaration" | "range_clause" => {
                for name in node.field_children("name") {
                    self.rebind(&name);
                }
                if let Some(left) = node.field("left") {
                    self.rebind_all(&left);
                }
            }
            "function_declaration" => {
                if let Some(name) = node.field("name") {
                    self.define(&name);
                }
            }
            _ => {}
        }
    }

    /// Java: `import a.b.C;` binds `C`; local variables and fields assign; parameters rebind.
    fn observe_java(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "import_declaration" => {
                if node.children().any(|c| c.kind() == "asterisk") {
                    return;
                }
                if let Some(path) = node.named_children().find(|c| c.kind() == "scoped_identifier") {
                    let path = compact(src(&path));
                    let local = path.rsplit('.').next().unwrap_or_default().to_owned();
                    self.import(local, path);
                }
            }
            "variable_declarator" => {
                let Some(name) = node.field("name") else { return };
                match node.field("value") {
                    Some(value) => self.assign(&name, value),
                    None => self.rebind(&name),
                }
            }
            "assignment_expression" => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else { return };
                if left.kind() == "identifier" {
                    self.assign(&left, right);
                }
            }
            "formal_parameter" | "spread_parameter" | "catch_formal_parameter" | "enhanced_for_statement" => {
                if let Some(name) = node.field("name") {
                    self.rebind(&name);
                }
            }
            "inferred_parameters" => self.rebind_all(node),
            "lambda_expression" => {
                if let Some(params) = node.field("parameters").filter(|p| p.kind() == "identifier") {
                    self.rebind(&params);
                }
            }
            _ => {}
        }
    }

    /// Rust: `use a::b::C;` and `use a::b::{C, D as E};` bind names to `a.b.C`…; `let`,
    /// `const` and `static` assign; parameters and patterns rebind.
    fn observe_rust(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "use_declaration" => {
                if let Some(argument) = node.field("argument") {
                    self.rust_use(&argument, "");
                }
            }
            "let_declaration" => {
                let Some(pattern) = node.field("pattern") else { return };
                match (pattern.kind() == "identifier", node.field("value")) {
                    (true, Some(value)) => self.assign(&pattern, value),
                    _ => self.rebind_all(&pattern),
                }
            }
            "const_item" | "static_item" => {
                if let (Some(name), Some(value)) = (node.field("name"), node.field("value")) {
                    self.assign(&name, value);
                }
            }
            "parameter" | "closure_parameters" | "for_expression" | "match_arm" | "let_condition" => {
                let pattern =
                    if node.kind() == "closure_parameters" { Some(node.clone()) } else { node.field("pattern") };
                if let Some(pattern) = pattern {
                    self.rebind_all(&pattern);
                }
            }
            "function_item" => {
                if let Some(name) = node.field("name") {
                    self.define(&name);
                }
            }
            _ => {}
        }
    }

    fn rust_use(&mut self, tree: &SNode<'t>, prefix: &str) {
        let path = |p: &SNode<'t>| {
            let text = compact(src(p)).replace("::", ".");
            let text = text.trim_start_matches('.').to_owned();
            if prefix.is_empty() {
                text
            } else {
                join(prefix, &text)
            }
        };
        match &*tree.kind() {
            "identifier" | "scoped_identifier" => {
                let full = path(tree);
                let local = full.rsplit('.').next().unwrap_or_default().to_owned();
                if local != "self" {
                    self.import(local, full);
                } else if let Some(parent) = full.strip_suffix(".self") {
                    let local = parent.rsplit('.').next().unwrap_or(parent).to_owned();
                    self.import(local, parent.to_owned());
                }
            }
            // `use std::mem::{self}`: `mem` itself.
            "self" if !prefix.is_empty() => {
                let local = prefix.rsplit('.').next().unwrap_or(prefix).to_owned();
                self.import(local, prefix.to_owned());
            }
            "use_as_clause" => {
                if let (Some(p), Some(alias)) = (tree.field("path"), tree.field("alias")) {
                    self.import(src(&alias).to_owned(), path(&p));
                }
            }
            "scoped_use_list" => {
                let base = tree.field("path").map(|p| path(&p)).unwrap_or_else(|| prefix.to_owned());
                if let Some(list) = tree.field("list") {
                    for item in list.named_children() {
                        self.rust_use(&item, &base);
                    }
                }
            }
            "use_list" => {
                for item in tree.named_children() {
                    self.rust_use(&item, prefix);
                }
            }
            _ => {}
        }
    }

    /// Ruby: assignments; method and block parameters rebind.
    fn observe_ruby(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "assignment" | "operator_assignment" => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else { return };
                match &*left.kind() {
                    "identifier" | "constant" => self.assign(&left, right),
                    "instance_variable" => {
                        self.attributes.entry(src(&left).to_owned()).or_default().push(right);
                    }
                    _ => self.rebind_all(&left),
                }
            }
            "method_parameters" | "block_parameters" | "lambda_parameters" => self.rebind_all(node),
            "method" => {
                if let Some(name) = node.field("name") {
                    self.define(&name);
                }
            }
            _ => {}
        }
    }

    /// PHP: `$x = v` assigns `$x`; parameters rebind; `use` imports classes.
    fn observe_php(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "assignment_expression" | "augmented_assignment_expression" => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else { return };
                if left.kind() == "variable_name" {
                    self.assign(&left, right);
                }
            }
            "simple_parameter" | "variadic_parameter" | "property_promotion_parameter" => {
                if let Some(name) = node.field("name") {
                    self.rebind(&name);
                }
            }
            "foreach_statement" | "global_declaration" | "list_literal" => {
                for child in node.named_children().skip(usize::from(node.kind() == "foreach_statement")) {
                    self.rebind_all(&child);
                }
            }
            "function_definition" => {
                if let Some(name) = node.field("name") {
                    self.define(&name);
                }
            }
            _ => {}
        }
    }

    /// Shell: `name=value` assigns; `read name` and `for name in` rebind.
    fn observe_bash(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "variable_assignment" => {
                let Some(name) = node.field("name") else { return };
                match node.field("value") {
                    Some(value) => self.assign(&name, value),
                    None => self.rebind(&name),
                }
            }
            "for_statement" => {
                if let Some(name) = node.field("variable") {
                    self.rebind(&name);
                }
            }
            _ => {}
        }
    }

    fn observe_py(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "import_statement" => {
                for name in node.field_children("name") {
                    match &*name.kind() {
                        // `import a.b.c` binds `a`, which already means `a`.
                        "dotted_name" => {
                            let text = compact(src(&name));
                            let root = text.split('.').next().unwrap_or_default().to_owned();
                            self.import(root.clone(), root);
                        }
                        "aliased_import" => {
                            if let (Some(module), Some(alias)) = (name.field("name"), name.field("alias")) {
                                self.import(src(&alias).to_owned(), compact(src(&module)));
                            }
                        }
                        _ => {}
                    }
                }
            }
            "import_from_statement" => {
                let Some(module) = node.field("module_name") else { return };
                let module = compact(src(&module));
                if node.children().any(|c| c.kind() == "wildcard_import") {
                    self.star_modules.push(module.clone());
                }
                for name in node.field_children("name") {
                    match &*name.kind() {
                        "dotted_name" => {
                            let text = compact(src(&name));
                            self.import(text.clone(), join(&module, &text));
                        }
                        "aliased_import" => {
                            if let (Some(orig), Some(alias)) = (name.field("name"), name.field("alias")) {
                                self.import(src(&alias).to_owned(), join(&module, &compact(src(&orig))));
                            }
                        }
                        _ => {}
                    }
                }
            }
            "assignment" | "augmented_assignment" => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else { return };
                match &*left.kind() {
                    "identifier" => self.assign(&left, right),
                    "attribute" => self.assign_attribute(&left, right),
                    "subscript" => {}
                    _ => self.rebind_all(&left),
                }
            }
            "named_expression" => {
                if let (Some(name), Some(value)) = (node.field("name"), node.field("value")) {
                    self.assign(&name, value);
                }
            }
            "parameters" | "lambda_parameters" => {
                for param in node.named_children() {
                    let target = match &*param.kind() {
                        "default_parameter" | "typed_default_parameter" => param.field("name"),
                        "typed_parameter" => param.named_children().next(),
                        _ => Some(param.clone()),
                    };
                    if let Some(target) = target {
                        self.rebind_all(&target);
                    }
                }
            }
            "for_statement" | "for_in_clause" => {
                if let Some(left) = node.field("left") {
                    self.rebind_all(&left);
                }
            }
            "as_pattern" => {
                if let Some(alias) = node.field("alias") {
                    self.rebind_all(&alias);
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = node.field("name") {
                    self.define(&name);
                }
            }
            _ => {}
        }
    }

    fn observe_js(&mut self, node: &SNode<'t>) {
        match &*node.kind() {
            "import_statement" => {
                let Some(source) = node.field("source") else { return };
                let module = module_name(&unquote(src(&source)));
                for clause in node.children().filter(|c| c.kind() == "import_clause") {
                    for part in clause.named_children() {
                        match &*part.kind() {
                            // A default import of a CommonJS module is the module itself.
                            "identifier" => self.import(src(&part).to_owned(), module.clone()),
                            "namespace_import" => {
                                if let Some(id) = part.named_children().find(|c| c.kind() == "identifier") {
                                    self.import(src(&id).to_owned(), module.clone());
                                }
                            }
                            "named_imports" => {
                                for spec in part.named_children().filter(|c| c.kind() == "import_specifier") {
                                    let Some(name) = spec.field("name") else { continue };
                                    let local = spec.field("alias").unwrap_or_else(|| name.clone());
                                    let member = unquote(src(&name));
                                    self.import(src(&local).to_owned(), join(&module, &member));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            // TypeScript `import cp = require("child_process")`.
            "import_alias" | "import_require_clause" => {
                let id = node.named_children().find(|c| c.kind() == "identifier");
                let source = node.field("source").or_else(|| node.named_children().find(|c| c.kind() == "string"));
                if let (Some(id), Some(source)) = (id, source) {
                    self.import(src(&id).to_owned(), module_name(&unquote(src(&source))));
                }
            }
            "variable_declarator" => {
                let Some(name) = node.field("name") else { return };
                let value = node.field("value");
                match (&*name.kind(), value) {
                    ("identifier", Some(value)) => self.assign(&name, value),
                    ("identifier", None) => {}
                    ("object_pattern", Some(value)) => self.destructure(&name, &value),
                    _ => self.rebind_all(&name),
                }
            }
            "field_definition" | "public_field_definition" => {
                let name = node.field("property").or_else(|| node.field("name"));
                if let (Some(name), Some(value)) = (name, node.field("value")) {
                    self.attributes.entry(src(&name).to_owned()).or_default().push(value);
                }
            }
            "assignment_expression" | "augmented_assignment_expression" => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else { return };
                match &*left.kind() {
                    "identifier" => self.assign(&left, right),
                    "object_pattern" if node.kind() == "assignment_expression" => self.destructure(&left, &right),
                    "member_expression" => self.assign_attribute(&left, right),
                    "subscript_expression" => {}
                    _ => self.rebind_all(&left),
                }
            }
            "formal_parameters" => self.rebind_all(node),
            "arrow_function" => {
                if let Some(param) = node.field("parameter") {
                    // The parameter belongs to the arrow function's own scope.
                    let outer = self.scope;
                    self.scope = node.node_id();
                    self.rebind(&param);
                    self.scope = outer;
                }
            }
            "for_in_statement" => {
                if let Some(left) = node.field("left") {
                    self.rebind_all(&left);
                }
            }
            "catch_clause" => {
                if let Some(param) = node.field("parameter") {
                    self.rebind_all(&param);
                }
            }
            "function_declaration" | "class_declaration" | "generator_function_declaration" => {
                if let Some(name) = node.field("name") {
                    self.define(&name);
                }
            }
            _ => {}
        }
    }

    /// `{ exec, spawn: sp } = value`: `exec` is `value.exec`, `sp` is `value.spawn`.
    fn destructure(&mut self, pattern: &SNode<'t>, value: &SNode<'t>) {
        for prop in pattern.named_children() {
            let (local, key) = match &*prop.kind() {
                "shorthand_property_identifier_pattern" => (prop.clone(), src(&prop).to_owned()),
                "pair_pattern" => match (prop.field("key"), prop.field("value")) {
                    (Some(key), Some(local)) if local.kind() == "identifier" => (local, unquote(src(&key))),
                    (_, Some(local)) => {
                        self.rebind_all(&local);
                        continue;
                    }
                    _ => continue,
                },
                "object_assignment_pattern" => match prop.field("left") {
                    Some(left) if left.kind() == "shorthand_property_identifier_pattern" => {
                        let key = src(&left).to_owned();
                        (left, key)
                    }
                    _ => continue,
                },
                _ => {
                    self.rebind_all(&prop);
                    continue;
                }
            };
            self.destructured.entry(src(&local).to_owned()).or_default().push((self.scope, value.clone(), key));
            // Destructured names have no literal value of their own.
            self.rebind(&local);
        }
    }

    /// The scopes a name used at `node` is looked up in, innermost first, ending with the
    /// module. Class bodies count only for code directly inside them.
    fn scope_chain(&self, node: &SNode<'t>) -> Vec<Scope> {
        let mut chain = Vec::new();
        for ancestor in node.ancestors() {
            match scope_kind(&ancestor.kind(), self.syn) {
                Some(true) if !chain.is_empty() => {}
                Some(_) => chain.push(ancestor.node_id()),
                None => {}
            }
        }
        chain.push(MODULE);
        chain
    }

    /// The scope whose binding of `name` a use at `node` sees, if the file binds it at all.
    fn binding_scope(&self, name: &str, node: &SNode<'t>) -> Option<Scope> {
        let assigned = self.assigned.get(name);
        let destructured = self.destructured.get(name);
        let rebound = self.rebound.get(name);
        if assigned.is_none() && destructured.is_none() && rebound.is_none() {
            return None;
        }
        self.scope_chain(node).into_iter().find(|s| {
            assigned.is_some_and(|v| v.iter().any(|(x, _)| x == s))
                || destructured.is_some_and(|v| v.iter().any(|(x, _, _)| x == s))
                || rebound.is_some_and(|v| v.contains(s))
        })
    }

    fn values_in(&self, name: &str, scope: Scope) -> impl Iterator<Item = &SNode<'t>> {
        self.assigned.get(name).into_iter().flatten().filter(move |(s, _)| *s == scope).map(|(_, v)| v)
    }

    fn is_rebound_in(&self, name: &str, scope: Scope) -> bool {
        self.rebound.get(name).is_some_and(|v| v.contains(&scope))
    }

    /// The dotted names an expression may stand for, imports and aliases resolved:
    /// `sp.run` after `import subprocess as sp` is `subprocess.run`; `exec` after
    /// `const { exec } = require("child_process")` is `child_process.exec`. Empty when the
    /// expression is not a name (a call result, a subscript…).
    pub(crate) fn canonical(&self, node: &SNode<'t>) -> Vec<String> {
        let mut out = Vec::new();
        self.canonical_into(node, 0, &mut out);
        out.sort();
        out.dedup();
        out
    }

    fn canonical_into(&self, node: &SNode<'t>, hops: usize, out: &mut Vec<String>) {
        if hops > MAX_HOPS {
            return;
        }
        match &*node.kind() {
            "identifier" | "type_identifier" | "constant" | "variable_name" | "name" => {
                self.resolve_name(src(node), node, hops, out)
            }
            "this" | "self" => out.push(src(node).to_owned()),
            // Go `exec.Command`, Java `a.b.C`, Rust `std::process::Command::new` and
            // `self.field`, Ruby `Open3.popen3`: a base and a member, joined with `.`.
            "selector_expression"
            | "field_access"
            | "scoped_identifier"
            | "scoped_type_identifier"
            | "field_expression"
            | "scope_resolution" => {
                let (base, member) = match &*node.kind() {
                    "selector_expression" => (node.field("operand"), node.field("field")),
                    "field_access" => (node.field("object"), node.field("field")),
                    "field_expression" => (node.field("value"), node.field("field")),
                    "scope_resolution" => (node.field("scope"), node.field("name")),
                    _ => (node.field("path").or_else(|| node.field("scope")), node.field("name")),
                };
                let Some(member) = member else { return };
                let mut bases = Vec::new();
                match base {
                    Some(base) => self.canonical_into(&base, hops + 1, &mut bases),
                    // `::Foo` (Ruby), `crate::x` handled as a plain path.
                    None => bases.push(String::new()),
                }
                let member = src(&member);
                out.extend(bases.into_iter().map(|b| if b.is_empty() { member.to_owned() } else { join(&b, member) }));
            }
            // Ruby `Open3.popen3(cmd)` without parentheses is a call whose receiver and method
            // name the function; as a callee its canonical name is `Open3.popen3`.
            "call" if self.syn == Syntax::Ruby => {
                let (Some(receiver), Some(method)) = (node.field("receiver"), node.field("method")) else { return };
                if node.field("arguments").is_some() {
                    return;
                }
                let mut bases = Vec::new();
                self.canonical_into(&receiver, hops + 1, &mut bases);
                out.extend(bases.into_iter().map(|b| join(&b, src(&method))));
            }
            "attribute" | "member_expression" => {
                let (object, member) = if self.js {
                    (node.field("object"), node.field("property"))
                } else {
                    (node.field("object"), node.field("attribute"))
                };
                let (Some(object), Some(member)) = (object, member) else { return };
                let mut bases = Vec::new();
                self.canonical_into(&object, hops + 1, &mut bases);
                let member = src(&member);
                out.extend(bases.into_iter().map(|b| join(&b, member)));
            }
            // `cp["exec"]`
            "subscript_expression" if self.js => {
                let (Some(object), Some(index)) = (node.field("object"), node.field("index")) else { return };
                if index.kind() != "string" {
                    return;
                }
                let mut bases = Vec::new();
                self.canonical_into(&object, hops + 1, &mut bases);
                let member = unquote(src(&index));
                out.extend(bases.into_iter().map(|b| join(&b, &member)));
            }
            // `require("child_process")`, `__import__("os")`: the module itself.
            "call_expression" | "call" => {
                let Some(function) = node.field("function") else { return };
                let loader = if self.js { "require" } else { "__import__" };
                if function.kind() != "identifier" || src(&function) != loader {
                    return;
                }
                let Some(args) = node.field("arguments") else { return };
                let mut args = args.named_children();
                if let (Some(first), None) = (args.next(), args.next()) {
                    if first.kind() == "string" && self.is_literal(&first, &[]) {
                        out.push(module_name(&unquote(src(&first))));
                    }
                }
            }
            // Rust `transmute::<A, B>`: the function without its type arguments.
            "generic_function" => {
                if let Some(function) = node.field("function") {
                    self.canonical_into(&function, hops + 1, out);
                }
            }
            "parenthesized_expression"
            | "non_null_expression"
            | "as_expression"
            | "satisfies_expression"
            | "await_expression" => {
                if let Some(inner) = node.named_children().next() {
                    self.canonical_into(&inner, hops + 1, out);
                }
            }
            _ => {}
        }
    }

    fn resolve_name(&self, name: &str, at: &SNode<'t>, hops: usize, out: &mut Vec<String>) {
        let scope = self.binding_scope(name, at);
        if let Some(targets) = self.imports.get(name) {
            // An import wins unless a closer scope rebinds the name.
            if scope
                .is_none_or(|s| s == MODULE || self.values_in(name, s).next().is_none() && !self.is_rebound_in(name, s))
            {
                out.extend(targets.iter().cloned());
                return;
            }
        }
        let Some(scope) = scope else {
            // Unbound here: a builtin, a global, or a star import.
            out.push(name.to_owned());
            out.extend(self.star_modules.iter().map(|m| join(m, name)));
            return;
        };
        if let Some(parts) = self.destructured.get(name) {
            let before = out.len();
            for (_, value, key) in parts.iter().filter(|(s, _, _)| *s == scope) {
                let mut bases = Vec::new();
                self.canonical_into(value, hops + 1, &mut bases);
                out.extend(bases.into_iter().map(|b| join(&b, key)));
            }
            if out.len() > before {
                return;
            }
        }
        if self.defined.get(name).is_some_and(|d| d.contains(&scope)) {
            // A function or class of this file: `local:eval` is not the builtin `eval`.
            out.push(format!("local:{name}"));
            return;
        }
        // A name assigned exactly once in its scope, to another name: an alias
        // (`h = hashlib.md5`, `const cp = require("child_process")`).
        let mut values = self.values_in(name, scope);
        if let (Some(value), None) = (values.next(), values.next()) {
            if !self.is_rebound_in(name, scope) {
                let before = out.len();
                self.canonical_into(value, hops + 1, out);
                if out.len() > before {
                    return;
                }
            }
        }
        out.push(name.to_owned());
    }

    /// The dotted names of what a call calls, in every language's call syntax: Python's and
    /// JavaScript's `function`, Java's `object.name`, Ruby's `receiver.method`, PHP's
    /// `function` and `object->name`.
    fn callee(&self, call: &SNode<'t>) -> Vec<String> {
        let member = |object: Option<SNode<'t>>, name: Option<SNode<'t>>| {
            let Some(name) = name else { return Vec::new() };
            match object {
                Some(object) => {
                    let names: Vec<String> = self.canonical(&object).iter().map(|b| join(b, src(&name))).collect();
                    // A receiver that is not a name (`params[:id].to_i`): `*.to_i` still applies.
                    if names.is_empty() {
                        vec![format!("?.{}", src(&name))]
                    } else {
                        names
                    }
                }
                None => vec![src(&name).to_owned()],
            }
        };
        match &*call.kind() {
            "method_invocation" => member(call.field("object"), call.field("name")),
            "call" if self.syn == Syntax::Ruby => member(call.field("receiver"), call.field("method")),
            "member_call_expression" => member(call.field("object"), call.field("name")),
            "scoped_call_expression" => member(call.field("scope"), call.field("name")),
            _ => call.field("function").map(|f| self.canonical(&f)).unwrap_or_default(),
        }
    }

    /// True when the expression is built only from literals and names bound only to such
    /// expressions: `"SELECT 1"`, `"a" + "b"`, `f"x"`, `QUERY` after `QUERY = "…"`,
    /// `"{}".format("x")`, `self.MAX` (an all-caps attribute, a constant by convention, or
    /// one only ever assigned constants). Interpolated variables, parameters and calls are
    /// not — except calls to `sanitizers`, whose results are safe by declaration.
    pub(crate) fn is_literal(&self, node: &SNode<'t>, sanitizers: &[String]) -> bool {
        self.literal_budget.set(MAX_LITERAL_NAMES);
        self.literal_at(node, 0, &mut Vec::new(), sanitizers)
    }

    fn literal_at(
        &self,
        node: &SNode<'t>,
        depth: usize,
        visiting: &mut Vec<(Scope, String)>,
        sanitizers: &[String],
    ) -> bool {
        if depth > MAX_EXPR_DEPTH {
            return false;
        }
        let all = |this: &Self, visiting: &mut Vec<(Scope, String)>, nodes: &mut dyn Iterator<Item = SNode<'t>>| {
            for n in nodes {
                if n.kind() != "comment" && !this.literal_at(&n, depth + 1, visiting, sanitizers) {
                    return false;
                }
            }
            true
        };
        match &*node.kind() {
            "integer" | "float" | "true" | "false" | "none" | "number" | "null" | "undefined" | "regex" => true,
            // Go, Java, Rust, Ruby, PHP and shell literals without interpolation.
            "int_literal"
            | "float_literal"
            | "imaginary_literal"
            | "rune_literal"
            | "nil"
            | "iota"
            | "decimal_integer_literal"
            | "hex_integer_literal"
            | "octal_integer_literal"
            | "binary_integer_literal"
            | "decimal_floating_point_literal"
            | "character_literal"
            | "null_literal"
            | "integer_literal"
            | "boolean_literal"
            | "char_literal"
            | "boolean"
            | "simple_symbol"
            | "raw_string_literal"
            | "raw_string"
            | "string_content"
            | "string_fragment"
            | "escape_sequence"
            | "word"
            | "ansi_c_string" => true,
            // Strings of the other languages: constant when every interpolated part is
            // (`"#{x}"`, PHP `"$x"`, shell `"$x"`; a command substitution never is).
            "string"
            | "interpreted_string_literal"
            | "string_literal"
            | "text_block"
            | "encapsed_string"
            | "heredoc"
            | "nowdoc"
            | "translated_string"
            | "delimited_symbol"
                if !matches!(self.syn, Syntax::Python | Syntax::Js) =>
            {
                for part in node.named_children() {
                    let ok = match &*part.kind() {
                        "string_content"
                        | "string_fragment"
                        | "escape_sequence"
                        | "string_value"
                        | "interpreted_string_literal_content"
                        | "heredoc_start"
                        | "heredoc_end"
                        | "heredoc_body"
                        | "nowdoc_body"
                        | "nowdoc_string" => true,
                        "interpolation" => all(self, visiting, &mut part.named_children()),
                        _ => self.literal_at(&part, depth + 1, visiting, sanitizers),
                    };
                    if !ok {
                        return false;
                    }
                }
                true
            }
            // PHP wraps each call argument in an `argument` node.
            "argument"
            | "concatenation"
            | "parenthesized_statements"
            | "array_creation_expression"
            | "array_initializer"
            | "array_element_initializer"
            | "composite_literal"
            | "literal_value"
            | "literal_element"
            | "keyed_element"
            | "array_expression"
            | "tuple_expression"
            | "reference_expression" => all(self, visiting, &mut node.named_children()),
            "binary" => {
                let (Some(l), Some(r)) = (node.field("left"), node.field("right")) else { return false };
                self.literal_at(&l, depth + 1, visiting, sanitizers)
                    && self.literal_at(&r, depth + 1, visiting, sanitizers)
            }
            // Shell `$name` / `${name}`: constant when the variable is assigned only constants.
            "simple_expansion" | "expansion" => all(self, visiting, &mut node.named_children()),
            // An f-string or template is constant when what it interpolates is.
            "string" | "template_string" => {
                let mut parts =
                    node.children().filter(|c| c.kind() == "interpolation" || c.kind() == "template_substitution");
                parts.all(|p| {
                    let mut inner =
                        p.named_children().filter(|c| c.kind() != "format_specifier" && c.kind() != "type_conversion");
                    inner.next().is_some_and(|e| self.literal_at(&e, depth + 1, visiting, sanitizers))
                })
            }
            "concatenated_string"
            | "parenthesized_expression"
            | "tuple"
            | "list"
            | "set"
            | "array"
            | "expression_list"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression"
            | "unary_operator"
            | "unary_expression" => all(self, visiting, &mut node.named_children()),
            "keyword_argument" | "pair" => {
                node.field("value").is_some_and(|v| self.literal_at(&v, depth + 1, visiting, sanitizers))
            }
            "dictionary" | "object" => all(self, visiting, &mut node.named_children()),
            "binary_operator" | "binary_expression" => {
                let (Some(l), Some(r)) = (node.field("left"), node.field("right")) else { return false };
                self.literal_at(&l, depth + 1, visiting, sanitizers)
                    && self.literal_at(&r, depth + 1, visiting, sanitizers)
            }
            "conditional_expression" => {
                let mut parts = node.named_children();
                let (Some(a), _, Some(b)) = (parts.next(), parts.next(), parts.next()) else { return false };
                self.literal_at(&a, depth + 1, visiting, sanitizers)
                    && self.literal_at(&b, depth + 1, visiting, sanitizers)
            }
            "ternary_expression" => {
                let (Some(a), Some(b)) = (node.field("consequence"), node.field("alternative")) else { return false };
                self.literal_at(&a, depth + 1, visiting, sanitizers)
                    && self.literal_at(&b, depth + 1, visiting, sanitizers)
            }
            // `"…".format(…)`, `"…".join(…)`; `"…" % (…)` is a binary operator.
            // Java, PHP and Ruby calls: constant only through a sanitizer.
            "method_invocation" | "function_call_expression" | "member_call_expression" | "scoped_call_expression" => {
                !sanitizers.is_empty()
                    && self.callee(node).iter().any(|c| sanitizers.iter().any(|s| matches_name(s, c)))
            }
            "call" if self.syn == Syntax::Ruby => {
                !sanitizers.is_empty()
                    && self.callee(node).iter().any(|c| sanitizers.iter().any(|s| matches_name(s, c)))
            }
            "call" | "call_expression" => {
                let (Some(function), Some(args)) = (node.field("function"), node.field("arguments")) else {
                    return false;
                };
                if !sanitizers.is_empty()
                    && self.canonical(&function).iter().any(|c| sanitizers.iter().any(|s| matches_name(s, c)))
                {
                    return true;
                }
                let (receiver, method) = match &*function.kind() {
                    "attribute" => (function.field("object"), function.field("attribute")),
                    "member_expression" => (function.field("object"), function.field("property")),
                    _ => return false,
                };
                let (Some(receiver), Some(method)) = (receiver, method) else { return false };
                let string_method = ["format", "join", "upper", "lower", "strip", "concat", "trim"];
                string_method.contains(&src(&method))
                    && self.literal_at(&receiver, depth + 1, visiting, sanitizers)
                    && all(self, visiting, &mut args.named_children())
            }
            "attribute" | "member_expression" => {
                let member = if self.js { node.field("property") } else { node.field("attribute") };
                let object = node.field("object");
                let (Some(object), Some(member)) = (object, member) else { return false };
                let member = src(&member);
                let on_self = matches!(src(&object), "self" | "cls" | "this");
                let constant_name = member.len() > 1
                    && member.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    && member.chars().any(|c| c.is_ascii_uppercase());
                if constant_name && (on_self || object.kind() == "identifier") {
                    return true;
                }
                if !on_self {
                    return false;
                }
                let Some(values) = self.attributes.get(member) else { return false };
                values.iter().all(|v| self.literal_at(v, depth + 1, visiting, sanitizers))
            }
            "identifier" | "variable_name" | "constant" => {
                let name = src(node);
                if name == "undefined" {
                    return true;
                }
                let Some(scope) = self.binding_scope(name, node) else {
                    // Java fields and Ruby class constants are not in a method's scope chain:
                    // `static final String SQL = "…"` is constant when it is only assigned
                    // constants.
                    if !matches!(self.syn, Syntax::Java | Syntax::Ruby | Syntax::Php) {
                        return false;
                    }
                    let Some(values) = self.attributes.get(name) else { return false };
                    let key = (MODULE, format!("attr:{name}"));
                    if visiting.contains(&key) {
                        return true;
                    }
                    visiting.push(key);
                    let ok = values.iter().all(|v| self.literal_at(v, depth + 1, visiting, sanitizers));
                    visiting.pop();
                    return ok;
                };
                if self.is_rebound_in(name, scope) || (scope == MODULE && self.imports.contains_key(name)) {
                    return false;
                }
                let key = (scope, name.to_owned());
                if visiting.contains(&key) {
                    // `s = "a"; s = s + "b"`: the cycle adds nothing non-literal.
                    return true;
                }
                if let Some(&known) = self.literal_names.borrow().get(&key) {
                    return known;
                }
                let budget = self.literal_budget.get();
                if budget == 0 {
                    return false;
                }
                self.literal_budget.set(budget - 1);
                visiting.push(key.clone());
                let values: Vec<&SNode<'t>> = self.values_in(name, scope).collect();
                let ok =
                    !values.is_empty() && values.iter().all(|v| self.literal_at(v, depth + 1, visiting, sanitizers));
                visiting.pop();
                // `false` is final; `true` may rest on an assumption about a name still being
                // examined (a cycle), so it is only remembered for the query's own name.
                if (!ok || visiting.is_empty()) && sanitizers.is_empty() {
                    self.literal_names.borrow_mut().insert(key, ok);
                }
                ok
            }
            _ => false,
        }
    }

    /// Whether the nodes a meta-variable matched pass its semantic checks.
    pub(crate) fn check(&self, semantic: &CompiledSemantic, nodes: &[SNode<'t>]) -> bool {
        let named: Vec<&SNode<'t>> = nodes.iter().filter(|n| n.is_named() && n.kind() != "comment").collect();
        // A variable bound only in some branches of an `any` constrains the matches where it
        // is bound.
        if named.is_empty() {
            return true;
        }
        if !semantic.resolves_to.is_empty() {
            let names = self.canonical(named[0]);
            if !names.iter().any(|n| semantic.accepts(n)) {
                return false;
            }
        }
        if let Some(want) = semantic.literal {
            let literal = named.iter().all(|n| self.is_literal(n, &semantic.sanitizers));
            if literal != want {
                return false;
            }
        }
        if !semantic.sources.is_empty() {
            let mut walk = TaintWalk { explored: HashSet::new(), budget: MAX_TAINT_NODES };
            if !named.iter().any(|n| self.tainted(n, semantic, 0, &mut walk)) {
                return false;
            }
        }
        true
    }

    /// Whether the expression holds data from the semantic's sources: a name in it resolves
    /// to one, or a variable in it was assigned (in the scope the use sees) something that
    /// does. Calls to its sanitizers are not looked into.
    fn tainted(&self, node: &SNode<'t>, sem: &CompiledSemantic, hops: usize, walk: &mut TaintWalk<'t>) -> bool {
        if hops > MAX_TAINT_HOPS {
            return false;
        }
        let is_source = |name: &str| {
            sem.sources
                .iter()
                .any(|s| name == s || (name.starts_with(s.as_str()) && name.as_bytes().get(s.len()) == Some(&b'.')))
        };
        let mut stack = vec![node.clone()];
        while let Some(n) = stack.pop() {
            walk.budget = walk.budget.saturating_sub(1);
            if walk.budget == 0 {
                return false;
            }
            match &*n.kind() {
                "attribute" | "member_expression" | "subscript_expression"
                    if self.canonical(&n).iter().any(|c| is_source(c)) =>
                {
                    return true;
                }
                "selector_expression" | "field_access" | "field_expression"
                    if self.canonical(&n).iter().any(|c| is_source(c)) =>
                {
                    return true;
                }
                // Java `request.getParameter("q")`: the receiver's name and the method.
                "method_invocation"
                    if sem.sanitizers.is_empty()
                        || !self.callee(&n).iter().any(|c| sem.sanitizers.iter().any(|s| matches_name(s, c))) =>
                {
                    if let (Some(object), Some(name)) = (n.field("object"), n.field("name")) {
                        if self.canonical(&object).iter().any(|c| is_source(&join(c, src(&name)))) {
                            return true;
                        }
                    }
                }
                "identifier" | "shorthand_property_identifier" | "variable_name" => {
                    let name = src(&n);
                    if self.canonical(&n).iter().any(|c| is_source(c)) {
                        return true;
                    }
                    let Some(scope) = self.binding_scope(name, &n) else { continue };
                    // Each variable's values are followed once per query: what they hold does
                    // not depend on the path that reached them, and a name assigned many
                    // times from itself (`sql += …`) would otherwise explode.
                    if !walk.explored.insert((scope, name)) {
                        continue;
                    }
                    let values: Vec<&SNode<'t>> = self.values_in(name, scope).collect();
                    if values.into_iter().any(|v| self.tainted(v, sem, hops + 1, walk)) {
                        return true;
                    }
                    continue;
                }
                "call"
                | "call_expression"
                | "method_invocation"
                | "function_call_expression"
                | "member_call_expression"
                | "scoped_call_expression"
                    if !sem.sanitizers.is_empty() =>
                {
                    let sanitized = self.callee(&n).iter().any(|c| sem.sanitizers.iter().any(|s| matches_name(s, c)));
                    if sanitized {
                        continue;
                    }
                }
                _ => {}
            }
            let children: Vec<SNode<'t>> = n.children().collect();
            stack.extend(children.into_iter().rev());
        }
        false
    }
}

/// The state of one taint query: variables already followed, and the nodes left to look at.
struct TaintWalk<'a> {
    explored: HashSet<(Scope, &'a str)>,
    budget: usize,
}

/// `name` is `pattern`; or below it when `pattern` ends in `.*`; or, for `*.name`, any
/// dotted name ending in `.name` (a method whatever its receiver: `*.quote_name`).
fn matches_name(pattern: &str, name: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix("*.") {
        return name == suffix
            || (name.ends_with(suffix) && name.as_bytes().get(name.len() - suffix.len() - 1) == Some(&b'.'));
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => name.len() > prefix.len() && name.starts_with(prefix) && name.as_bytes()[prefix.len()] == b'.',
        None => pattern == name,
    }
}

/// A [`VarSemantic`] ready to test names.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSemantic {
    pub var: String,
    exact: HashSet<String>,
    prefixes: Vec<String>,
    resolves_to: Vec<String>,
    literal: Option<bool>,
    /// `tainted-by`, named sets expanded.
    sources: Vec<String>,
    /// `sanitized-by`: calls whose result is clean.
    sanitizers: Vec<String>,
}

impl CompiledSemantic {
    /// Expands `web-input` and `dom-input` for a language; fails on another `…-input`
    /// name, which is a typo rather than a dotted name.
    pub(crate) fn new(var: &str, spec: &VarSemantic, syn: Syntax) -> Result<Self, String> {
        let mut sources = Vec::new();
        for source in &spec.tainted_by {
            let set: &[&str] = match (source.as_str(), syn) {
                ("web-input", Syntax::Python) => PY_WEB_INPUT,
                ("web-input", Syntax::Js) => JS_WEB_INPUT,
                ("web-params", Syntax::Python) => PY_WEB_PARAMS,
                ("web-params", Syntax::Js) => JS_WEB_PARAMS,
                ("dom-input", Syntax::Js) => JS_DOM_INPUT,
                ("web-input", Syntax::Go) => GO_WEB_INPUT,
                ("web-params", Syntax::Go) => GO_WEB_PARAMS,
                ("web-input", Syntax::Java) => JAVA_WEB_INPUT,
                ("web-params", Syntax::Java) => JAVA_WEB_PARAMS,
                ("web-input", Syntax::Ruby) => RUBY_WEB_INPUT,
                ("web-params", Syntax::Ruby) => RUBY_WEB_PARAMS,
                ("web-input", Syntax::Php) => PHP_WEB_INPUT,
                ("web-params", Syntax::Php) => PHP_WEB_PARAMS,
                (other, _) if other.ends_with("-input") => {
                    return Err(format!("metadata.semantic.{var}.tainted-by: no source set `{other}` for this language (web-input, web-params, dom-input)"));
                }
                (other, _) => {
                    sources.push(other.to_owned());
                    continue;
                }
            };
            sources.extend(set.iter().map(|s| (*s).to_owned()));
        }
        let mut exact = HashSet::new();
        let mut prefixes = Vec::new();
        for name in &spec.resolves_to {
            match name.strip_suffix(".*") {
                Some(prefix) => prefixes.push(format!("{prefix}.")),
                None => {
                    exact.insert(name.clone());
                }
            }
        }
        Ok(CompiledSemantic {
            var: var.to_owned(),
            exact,
            prefixes,
            resolves_to: spec.resolves_to.clone(),
            literal: spec.literal,
            sources,
            sanitizers: spec.sanitized_by.clone(),
        })
    }

    fn accepts(&self, name: &str) -> bool {
        self.exact.contains(name) || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }

    /// The dotted names the variable must resolve to (empty: no such check).
    pub(crate) fn resolves_to(&self) -> &[String] {
        &self.resolves_to
    }

    /// Rough cost of the check, so cheap ones run first and expensive ones only on
    /// candidates that survived: name resolution, then constants, then data flow.
    pub(crate) fn cost(&self) -> u8 {
        if !self.sources.is_empty() {
            2
        } else if self.literal.is_some() {
            1
        } else {
            0
        }
    }
}

fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn join(base: &str, member: &str) -> String {
    if base.ends_with('.') {
        format!("{base}{member}")
    } else {
        format!("{base}.{member}")
    }
}

/// `'x'`, `"x"`, `` `x` `` → `x`.
pub(crate) fn unquote(text: &str) -> String {
    let t = text.trim();
    for q in ['"', '\'', '`'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_owned();
        }
    }
    t.to_owned()
}

/// `node:child_process` is `child_process`.
fn module_name(spec: &str) -> String {
    spec.strip_prefix("node:").unwrap_or(spec).to_owned()
}
