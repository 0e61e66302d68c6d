package main

import "encoding/json"

// canonical encodes a JSON value with sorted keys (encoding/json sorts map keys).
func canonical(v any) ([]byte, error) { return json.Marshal(v) }
