package accounts_test

import (
	"testing"

	"partnergate/core/accounts"
)

// TestIdentifierRule: the written rule (docs/security.md, "Identifier
// rule") for emails and usernames alike: letters that look like others or
// map onto others are refused, never folded into an existing identifier.
func TestIdentifierRule(t *testing.T) {
	for _, tt := range []struct {
		name, local string
		norm        string // empty: refused
	}{
		{"ascii, case folded", "Kate", "kate"},
		{"latin with diacritics", "Ätienne", "ätienne"},
		{"cyrillic alone", "Дима", "дима"},
		{"greek alone", "Αθηνα", "αθηνα"},
		{"japanese scripts together", "山田たろう", "山田たろう"},
		{"german sharp s kept", "straße", "straße"},
		{"Kelvin sign U+212A", "\u212Aate", ""},
		{"dotted capital I U+0130", "\u0130nci", ""},
		{"dotless i U+0131", "\u0131nci", ""},
		{"long s U+017F", "\u017Fam", ""},
		{"zero-width space", "ka\u200Bte", ""},
		{"zero-width joiner", "ka\u200Dte", ""},
		{"soft hyphen", "ka\u00ADte", ""},
		{"cyrillic a among latin", "k\u0430te", ""},
		{"greek omicron among latin", "b\u03BFb", ""},
		{"full-width letters", "\uFF4B\uFF41\uFF54\uFF45", ""},
		{"ligature fi", "\uFB01le", ""},
		{"decomposed A with ring", "A\u030Ale", ""},
		{"uncomposable combining dot", "i\u0307nci", ""},
		{"variation selector", "kate\uFE0F", ""},
		{"private use", "kate\uE000", ""},
		{"unassigned", "kate\U000E0080", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := accounts.ParseEmail(tt.local + "@example.com")
			u, uerr := accounts.NormalizeUsername(tt.local)
			if tt.norm == "" {
				if err == nil || uerr == nil {
					t.Fatalf("%q accepted: email %+v (%v), username %q (%v)", tt.local, e, err, u, uerr)
				}
				return
			}
			if err != nil || e.Norm != tt.norm+"@example.com" || uerr != nil || u != tt.norm {
				t.Fatalf("%q: email %+v (%v), username %q (%v); want %q", tt.local, e, err, u, uerr, tt.norm)
			}
		})
	}
	// Domains follow the rule label by label.
	for _, d := range []string{"ex\u0430mple.com", "example.\u212Aom", "exa\u200Bmple.com"} {
		if e, err := accounts.ParseEmail("kate@" + d); err == nil {
			t.Errorf("domain %q accepted: %+v", d, e)
		}
	}
	if e, err := accounts.ParseEmail("kate@пример.рф"); err != nil || e.Norm != "kate@пример.рф" {
		t.Errorf("a Cyrillic domain with a Latin local part: %+v, %v", e, err)
	}
}

// TestNormalizeUsername: the username rule beyond the identifier rule:
// 3-32 characters after folding, the allowlist, and reserved words however
// they are cased or punctuated.
func TestNormalizeUsername(t *testing.T) {
	long := "abcdefghijklmnopqrstuvwxyz012345" // 32
	for _, tt := range []struct {
		name, in, norm string // norm empty: refused
	}{
		{"plain", "kate_99", "kate_99"},
		{"case folded", "KaTe.Smith", "kate.smith"},
		{"minimum length", "abc", "abc"},
		{"too short", "ab", ""},
		{"maximum length", long, long},
		{"too long", long + "x", ""},
		{"three runes of two bytes", "äöü", "äöü"},
		{"space", "kate smith", ""},
		{"at sign", "kate@home", ""},
		{"plus", "+kate", ""},
		{"colon (Basic separator)", "kate:1", ""},
		{"slash", "kate/1", ""},
		{"emoji", "kate🙂", ""},
		{"empty", "", ""},
		{"reserved", "admin", ""},
		{"reserved, cased", "ROOT", ""},
		{"reserved, punctuated", "Sup-port", ""},
		{"reserved, dotted", "s.y.s.t.e.m", ""},
		{"reserved word inside a name", "admin_kate", "admin_kate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := accounts.NormalizeUsername(tt.in)
			if tt.norm == "" {
				if err == nil {
					t.Fatalf("%q accepted as %q", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.norm {
				t.Fatalf("%q: %q, %v; want %q", tt.in, got, err, tt.norm)
			}
		})
	}
}
