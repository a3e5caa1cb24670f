// The entry point maps every failure to the documented exit codes: 0 success, 2 bad
// input (with diagnostics on standard error), 1 anything else.
MemoryReuse.configure()
Simulate.runWithExitCodes()
