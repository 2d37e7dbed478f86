// Empty on purpose: an assembly file in the package lets the Go compiler
// accept the body-less runtime_Semacquire / runtime_Semrelease declarations
// in main.go (their bodies are the runtime's, reached through go:linkname).
