// The answer of a subcommand whose implementation has not landed yet: a clear message and exit code 3.
export function notYet(what: string, issue: string): number {
  console.error(`beaconlb ${what}: not implemented yet (${issue}); see README.md for the roadmap.`);
  return 3;
}
