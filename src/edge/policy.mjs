// The policy file bundled into the Worker. scripts/build.sh replaces this module, in its copy of
// the glue, with the one `entra-gate-check bundle-policy FILE` writes from the policy file it is
// given; as checked in, it stands for a build without one.
export function bundledPolicyPath() {
  return undefined;
}

export function bundledPolicyJson() {
  return undefined;
}
