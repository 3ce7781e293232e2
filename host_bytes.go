package purser

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Byte units.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"k": KiB, "ki": KiB, "kib": KiB, "kb": 1000,
	"m": MiB, "mi": MiB, "mib": MiB, "mb": 1000 * 1000,
	"g": GiB, "gi": GiB, "gib": GiB, "gb": 1000 * 1000 * 1000,
	"t": TiB, "ti": TiB, "tib": TiB, "tb": 1000 * 1000 * 1000 * 1000,
}

// ParseBytes reads an amount of memory such as "128GiB", "512Mi", "1.5 TiB"
// or "64G" (a bare letter is binary: G is GiB, as Kubernetes' Gi; KB, MB,
// GB and TB are decimal). A plain number is bytes.
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := byteUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || math.IsInf(f*float64(mult), 0) || f*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not an amount of memory such as 128GiB, 512MiB or 1TiB", s)
	}
	return int64(f * float64(mult)), nil
}

// FormatBytes writes an amount of memory in GiB ("32 GiB", "15.5 GiB"),
// or MiB under 1 GiB.
func FormatBytes(n int64) string {
	if n < GiB && n > -GiB {
		return strconv.FormatFloat(math.Round(float64(n)/float64(MiB)*10)/10, 'f', -1, 64) + " MiB"
	}
	return strconv.FormatFloat(math.Round(float64(n)/float64(GiB)*10)/10, 'f', -1, 64) + " GiB"
}

// gib writes n in GiB without the unit, for "largest free 4 and 16".
func gib(n int64) string {
	return strconv.FormatFloat(math.Round(float64(n)/float64(GiB)*10)/10, 'f', -1, 64)
}
