package pii

import (
	"fmt"
	"testing"
)

func TestZZTry(t *testing.T) {
	sc, _ := New(Options{})
	for _, s := range []string{
		"mail john.doe+tag@example.co.uk now", "icon@2x.png", "call +1 (555) 123-4567 or 555-123-4567 or (555) 123-4567, 555.123.4567, 555 123 4567",
		"+44 20 7946 0958", "+1-555-123-4567", "07911 123456", "030 12345678", "+44 (0)20 7946 0958", "+33 1 23 45 67 89", "01 23 45 67 89",
		"card 4111 1111 1111 1111 exp", "4111-1111-1111-1111", "4111111111111111", "3782 822463 10005", "4111111111111112",
		"IBAN DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "ip 192.168.1.1 v1.2.3.4 version 10.0.0.1 999.1.1.1 Chrome/120.0.0.0",
		"ipv6 2001:db8::1 fe80::1%eth0 ::1 2001:0db8:85a3:0000:0000:8a2e:0370:7334 10:20:30 ::ffff:192.0.2.1",
		"ssn 123-45-6789 000-12-3456 666-12-3456", "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543abc",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"key sk_live_4eC39HqLyjWDarjtT1zdp7dc AKIAIOSFODNN7EXAMPLE ghp_16C7e42F292c6912E7710c838347Ae178B4a xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
		"https://user:hunter2@db.example.com/x?token=abc123&page=2&api_key=XYZ789#access_token=qqq",
		"2024-01-15T10:20:30Z 1732550400 1732550400123 1,234.56 $12.99 2.4.0 123e4567-e89b-12d3-a456-426614174000",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	} {
		ms := sc.Scan(nil, s)
		fmt.Printf("%q\n", s)
		for _, m := range ms {
			fmt.Printf("   %-12s %q\n", m.Type, s[m.Start:m.End])
		}
	}
}
