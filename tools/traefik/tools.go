//go:build tools

// Package tools pins the command this module builds so `go mod tidy` keeps its dependencies (scripts/traefik.sh).
package tools

import (
	_ "github.com/traefik/traefik/v3/cmd/traefik"
)
