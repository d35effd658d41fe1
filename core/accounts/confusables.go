package accounts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// identifierProblem applies the identifier rule (docs/security.md,
// "Identifier rule") to one part of an identifier: an email's local part,
// one label of its domain, or a username. It returns "" when the part may
// be used, else what is wrong with it. The rule refuses rather than folds
// whatever could make two strings that look alike name different accounts,
// or two that look different name the same one: after the rule, comparison
// is a lower-casing that maps each code point to one code point and back.
func identifierProblem(part string) string {
	ascii := true
	for i := 0; i < len(part); i++ {
		if part[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return ""
	}
	if !utf8.ValidString(part) {
		return "not valid UTF-8"
	}
	// Compatibility characters (the Kelvin sign, full-width letters,
	// ligatures, superscripts) and decomposed letters are refused, not
	// mapped: mapping them is what let "\u212Aate" take "kate".
	if !norm.NFKC.IsNormalString(part) {
		return "characters with a compatibility or decomposed form (such as the Kelvin sign or full-width letters) are not accepted"
	}
	script := ""
	for _, r := range part {
		switch {
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zs, unicode.Zl, unicode.Zp, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector):
			return "invisible, formatting or space characters (such as a zero-width space) are not accepted"
		case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S):
			return "unassigned characters are not accepted"
		case unicode.Is(unicode.Inherited, r):
			// Marks left uncombined by NFC (a dot above an "i") make
			// strings that look like others.
			return "combining marks that do not form a letter are not accepted"
		}
		if lo := unicode.ToLower(r); unicode.ToUpper(lo) != r && lo != r || unicode.ToLower(unicode.ToUpper(r)) != lo {
			// The dotted capital I lower-cases to a plain "i" whose
			// capital is "I": two letters would compare as one.
			return "letters whose case does not map one to one (such as \u0130) are not accepted"
		}
		if s := scriptOf(r); s != "" {
			if script != "" && s != script {
				return "letters from more than one script (such as Latin with Cyrillic) are not accepted in one part"
			}
			script = s
		}
	}
	return ""
}

// scriptOf names r's Unicode script, or "" for Common and Inherited, which
// every script shares (digits, punctuation).
func scriptOf(r rune) string {
	if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
		return ""
	}
	for name, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			switch name {
			case "Han", "Hiragana", "Katakana", "Hangul", "Bopomofo":
				// Written together in Japanese, Korean and Chinese
				// (UTS 39's Highly Restrictive level allows them).
				return "CJK"
			}
			return name
		}
	}
	return "Unknown"
}

// foldIdentifier is the comparison form of a part the rule accepted.
func foldIdentifier(part string) string { return strings.ToLower(part) }
