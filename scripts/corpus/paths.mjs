// Path attacks for the attack corpus (tests/data/attack-corpus-paths.json): request targets that
// origin stacks read in different ways, each with the one answer the gateway must give — the
// canonical path the origin receives (the very path the policy matched), or 400 path_ambiguous.
//
// Every target is printable ASCII and is one the runtime's URL parser passes on with the same
// meaning (no raw backslashes, which it turns into slashes before the worker sees them; no
// `..` right after `//`, which it resolves against the empty segment before the worker merges
// the slashes: `/a/b//../c` arrives as `/a/b/c`), so the
// native run (tests/attack_corpus.rs, the path straight into RequestTarget) and the workerd run
// (tests/e2e/attack.test.mjs, the target sent raw over HTTP) expect the same answers.

const forwarded = (name, target, path) => ({ name, target, expect: { status: 200, reason: null, forwarded: path } });
const refused = (name, target) => ({ name, target, expect: { status: 400, reason: "path_ambiguous", forwarded: null } });

export function buildPathCases() {
  return [
    forwarded("plain path", "/items/1", "/items/1"),
    forwarded("query passed on untouched", "/items/1?a=1&b=%2F&c=/../x", "/items/1?a=1&b=%2F&c=/../x"),
    forwarded("trailing slash kept", "/items/1/", "/items/1/"),
    // nginx merge_slashes and most routers: one path, one meaning.
    forwarded("leading double slash (nginx merge_slashes)", "//items/1", "/items/1"),
    forwarded("inner double slash", "/items//1", "/items/1"),
    forwarded("many slashes", "///items////1", "/items/1"),
    forwarded("double slash that looks like a host", "//evil.example/items", "/evil.example/items"),
    // Dot segments, plain and encoded (RFC 3986 §5.2.4; ASP.NET Core and Spring decode %2e).
    forwarded("dot segment", "/items/./1", "/items/1"),
    forwarded("dot-dot segment", "/x/../items/1", "/items/1"),
    forwarded("dot-dot above the root", "/../../items/1", "/items/1"),
    forwarded("encoded dot", "/items/%2e/1", "/items/1"),
    forwarded("encoded dot-dot", "/x/%2e%2e/items/1", "/items/1"),
    forwarded("encoded dot-dot in upper case", "/x/%2E%2E/items/1", "/items/1"),
    forwarded("half-encoded dot-dot", "/x/.%2e/items/1", "/items/1"),
    forwarded("half-encoded dot-dot, other half", "/x/%2e./items/1", "/items/1"),
    forwarded("three dots are an ordinary segment", "/items/...", "/items/..."),
    forwarded("dots inside a segment", "/items/a..b", "/items/a..b"),
    forwarded("encoded dot inside a segment", "/items/a%2eb", "/items/a.b"),
    // Unreserved characters written as escapes are the characters (RFC 3986 §6.2.2.2).
    forwarded("encoded letter (/api/%61dmin)", "/%69tems/1", "/items/1"),
    forwarded("encoded tilde", "/items/%7Euser", "/items/~user"),
    forwarded("encoded hyphen and underscore", "/items/a%2db%5fc", "/items/a-b_c"),
    forwarded("encoded digit", "/items/%31", "/items/1"),
    // Other escapes stay escapes, in upper case (RFC 3986 §6.2.2.1).
    forwarded("lower-case escapes of UTF-8", "/items/%c3%a9", "/items/%C3%A9"),
    forwarded("encoded space", "/items/a%20b", "/items/a%20b"),
    forwarded("encoded percent stays encoded", "/items/100%25", "/items/100%25"),
    forwarded("encoded colon stays encoded", "/items/a%3ab", "/items/a%3Ab"),
    forwarded("encoded question mark stays encoded", "/items/a%3fb", "/items/a%3Fb"),
    forwarded("four-byte UTF-8", "/items/%F0%9F%99%82", "/items/%F0%9F%99%82"),
    // What origins read in different ways: refused, never forwarded.
    refused("encoded slash (Envoy REJECT_REQUEST)", "/items%2f1"),
    refused("encoded slash in upper case", "/items%2F1"),
    refused("encoded slash climbing", "/items/..%2f..%2fadmin"),
    refused("encoded dot-dot-slash", "/items/%2e%2e%2fadmin"),
    refused("encoded backslash (IIS)", "/items/%5c1"),
    refused("encoded backslash in upper case", "/items/%5C..%5Cadmin"),
    refused("encoded NUL", "/items/%00"),
    refused("encoded line feed", "/items/a%0aX-Injected:1"),
    refused("encoded carriage return", "/items/a%0d"),
    refused("encoded DEL", "/items/%7f"),
    refused("path parameter (Tomcat/Jetty ..;)", "/items/..;/admin"),
    refused("path parameter on a segment", "/items;jsessionid=1/x"),
    refused("encoded semicolon", "/items/..%3b/admin"),
    refused("encoded semicolon in upper case", "/items/%3B"),
    refused("invalid UTF-8 byte", "/items/%ff"),
    refused("overlong dot (%c0%ae)", "/items/%c0%ae%c0%ae/admin"),
    refused("truncated UTF-8 sequence", "/items/%e2%82"),
    refused("lone surrogate in UTF-8", "/items/%ed%a0%80"),
    refused("lone percent", "/items/%"),
    refused("short escape", "/items/%4"),
    refused("escape that is not hex", "/items/%zz"),
    refused("IIS %u escape", "/items/%u002e%u002e/admin"),
  ];
}
