package ledger

import "strings"

// peppolSchemes are the Electronic Address Scheme codes PEPPOL BIS Billing 3.0 accepts for an
// electronic address (BT-34, BT-49; OpenPEPPOL's codelist, release 3.0.19, rule
// PEPPOL-EN16931-CL008). E-mail (EM) is not one of them.
var peppolSchemes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151
		0177 0183 0184 0188 0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 0208 0209
		0210 0211 0212 0213 0215 0216 0218 0221 0230 0235 9910 9913 9914 9915 9918 9919 9920 9922
		9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940
		9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959 0147 0154 0158
		0170 0194 0203 0205 0217 0225 0240`) {
		m[c] = true
	}
	return m
}()

// MaxPeppolIDLength bounds a PEPPOL participant id's identifier part.
const MaxPeppolIDLength = 50

// ValidPeppolID reports whether s is SCHEME:ID: a PEPPOL Electronic Address Scheme code and an
// identifier of letters, digits, '.', '-', '_' or '@' (CONTRACT 3.1, peppol_id).
func ValidPeppolID(s string) bool {
	scheme, id, ok := SplitPeppolID(s)
	if !ok || !peppolSchemes[scheme] || len(id) > MaxPeppolIDLength {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(".-_@", r)) {
			return false
		}
	}
	return true
}

// SplitPeppolID splits SCHEME:ID; ok false when s is not of that form.
func SplitPeppolID(s string) (scheme, id string, ok bool) {
	scheme, id, ok = strings.Cut(s, ":")
	return scheme, id, ok && scheme != "" && id != ""
}

// PeppolScheme reports whether code is a PEPPOL Electronic Address Scheme code.
func PeppolScheme(code string) bool { return peppolSchemes[code] }
