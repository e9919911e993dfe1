//! `.dev.vars`: the dotenv file wrangler reads for local secrets (`NAME=value` lines, `#`
//! comments, optional quotes).

use std::collections::BTreeMap;

pub fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            let name = name.trim().trim_start_matches("export ").trim();
            let value = value.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
                .unwrap_or(value);
            (name.to_owned(), unquoted.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_values_comments_and_quotes() {
        let vars = super::parse("# local\nGATE_SECRET=abc=\n export A = \"b c\" \nB='d'\nnoise\n");
        assert_eq!(vars["GATE_SECRET"], "abc=");
        assert_eq!(vars["A"], "b c");
        assert_eq!(vars["B"], "d");
        assert_eq!(vars.len(), 3);
    }
}
