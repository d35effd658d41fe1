package accounts

import (
	"strings"
	"testing"
)

func TestSplitLinkToken(t *testing.T) {
	for in, want := range map[string][2]string{
		"abc.123456":                        {"abc", "123456"},
		"a.b.123456":                        {"a.b", "123456"},
		".123456":                           {},
		"abc":                               {},
		"":                                  {},
		strings.Repeat("a", 65):             {},
		strings.Repeat("a", 57) + ".123456": {strings.Repeat("a", 57), "123456"},
	} {
		tk, code, ok := splitLinkToken(in)
		if ok != (want[0] != "") || tk != want[0] || code != want[1] {
			t.Errorf("%q: %q %q %v", in, tk, code, ok)
		}
	}
}

func FuzzSplitLinkToken(f *testing.F) {
	for _, s := range []string{"abc.123456", ".", "..", "x.", strings.Repeat(".", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tk, code, ok := splitLinkToken(s)
		if !ok {
			return
		}
		if tk == "" || tk+"."+code != s || strings.Contains(code, ".") || len(s) > MaxLinkToken {
			t.Fatalf("%q split as %q %q", s, tk, code)
		}
	})
}
