package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"ledger/api/wire"
	"ledger/billing"
)

// accountsTerminate ends an account's agreement (admin; R13, T&C 10.7).
func accountsTerminate(fs *flag.FlagSet) action {
	at := fs.String("at", "", "when it ends, RFC 3339 (default now)")
	return func(ctx context.Context, inv *invocation) error {
		body := map[string]string{}
		if *at != "" {
			body["at"] = *at
		}
		return accountAnswer(ctx, inv, http.MethodPost, accountPath(inv.args[0])+"/terminate", body,
			"terminated: its invoices are due at once, its unbilled usage invoiced due on issue (R13)")
	}
}

// accountsSetLimit sets an account's credit limit (finance; T&C 3.6).
func accountsSetLimit(fs *flag.FlagSet) action {
	amount := fs.String("amount", "", "the new limit in EUR, e.g. 7500.00; 0 cancels credit; required")
	return func(ctx context.Context, inv *invocation) error {
		if *amount == "" {
			return usagef("--amount is required")
		}
		return accountAnswer(ctx, inv, http.MethodPut, accountPath(inv.args[0])+"/credit-limit", map[string]string{"amount": *amount}, "")
	}
}

// chargebacksAdd books a reversed card top-up (finance; R10, T&C 3.14).
func chargebacksAdd(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the chargeback's id; required")
	topUp := fs.String("topup", "", "the card top-up reversed; required")
	amount := fs.String("amount", "", "EUR reversed; required")
	at := fs.String("at", "", "when it was reversed, RFC 3339 (default now)")
	return func(ctx context.Context, inv *invocation) error {
		if err := required("id", *id, "topup", *topUp, "amount", *amount); err != nil {
			return err
		}
		body := map[string]string{"id": *id, "topup_id": *topUp, "amount": *amount}
		if *at != "" {
			body["at"] = *at
		}
		var out wire.Chargeback
		_, printed, err := inv.answer(ctx, http.MethodPost, accountPath(inv.args[0])+"/chargebacks", nil, body, &out)
		if err != nil || printed {
			return err
		}
		closed := ""
		if out.Closed {
			closed = "the account is closed (no balance left, R10)"
		}
		fmt.Fprintf(inv.stdout, "Chargeback %s of top-up %s\n\n", out.ID, out.TopUpID)
		return writeFields(inv.stdout, field{"amount", out.Amount}, field{"set off", out.SetOff}, field{"owed", out.Owed}, field{"closed", closed})
	}
}

// creditNote is a credit note as the API answers it (CONTRACT 3.3).
type creditNote = wire.CreditNote

func creditNotesList(fs *flag.FlagSet) action {
	accountFlag := fs.String("account", "", "only this account's")
	return func(ctx context.Context, inv *invocation) error {
		q := query("account", *accountFlag)
		t := newTable("NUMBER", "ACCOUNT", "INVOICE", "ISSUED", "NET", "VAT", "TOTAL", "REASON").alignRight(4, 5, 6)
		n, printed, err := listRows(ctx, inv, "/v1/credit-notes", q, func(c creditNote) error {
			t.add(c.ID, c.Account, c.Invoice, c.IssueDate, c.Net, c.VAT, c.Total, c.Reason)
			return nil
		})
		if err != nil || printed {
			return err
		}
		return t.writeCounted(inv.stdout, plural(n, "credit note", "credit notes"))
	}
}

func creditNotesShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		var c creditNote
		_, printed, err := inv.answer(ctx, http.MethodGet, "/v1/credit-notes/"+url.PathEscape(inv.args[0]), nil, nil, &c)
		if err != nil || printed {
			return err
		}
		fmt.Fprintf(inv.stdout, "Credit note %s\n\n", c.ID)
		writeFields(inv.stdout, field{"account", c.Account}, field{"credits", c.Invoice}, field{"issued", c.IssueDate}, field{"reason", c.Reason})
		fmt.Fprintln(inv.stdout)
		if err := writeLines(inv.stdout, c.Lines, ""); err != nil {
			return err
		}
		fmt.Fprintln(inv.stdout)
		return writeFields(inv.stdout, field{"net", c.Net}, field{"VAT", c.VAT}, field{"total", c.Total})
	}
}

// clockShow and clockSet read and move the test clock (--test-clock; setting is the admin's).
// infoShow says which ledgerd answers (GET /v1/info): with several on one database, which one
// leads (docs/scaling.md).
func infoShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		var out struct {
			NATS      string `json:"nats"`
			TestClock bool   `json:"test_clock"`
			Instance  string `json:"instance"`
			Leader    bool   `json:"leader"`
		}
		_, printed, err := inv.answer(ctx, http.MethodGet, "/v1/info", nil, nil, &out)
		if err != nil || printed {
			return err
		}
		role := "standing by: serves the API; another instance ingests and runs the once-only jobs"
		if out.Leader {
			role = "leader: ingests and runs the once-only jobs"
		}
		clock := "wall clock"
		if out.TestClock {
			clock = "test clock (ledgerctl clock show)"
		}
		_, err = fmt.Fprintf(inv.stdout, "instance  %s\nrole      %s\nnats      %s\nclock     %s\n", out.Instance, role, out.NATS, clock)
		return err
	}
}

func clockShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		var out struct{ Now string }
		_, printed, err := inv.answer(ctx, http.MethodGet, "/v1/clock", nil, nil, &out)
		if err != nil || printed {
			return err
		}
		_, err = fmt.Fprintln(inv.stdout, out.Now)
		return err
	}
}

func clockSet(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		var out struct{ Now string }
		_, printed, err := inv.answer(ctx, http.MethodPost, "/v1/clock", nil, map[string]string{"now": inv.args[0]}, &out)
		if err != nil || printed {
			return err
		}
		_, err = fmt.Fprintf(inv.stdout, "the clock stands at %s; everything due until then has run\n", out.Now)
		return err
	}
}

// dataSubjectsShow lists what is held under a number's pseudonym; erase removes it (admin; R14).
func dataSubjectsShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		t := newTable("EVENT", "ACCOUNT", "CHANNEL", "OCCURRED AT", "PREFIX", "COUNTRY", "AMOUNT").alignRight(6)
		n, printed, err := listRows(ctx, inv, "/v1/data-subjects/"+url.PathEscape(inv.args[0]), nil, func(r wire.DataSubjectRecord) error {
			t.add(r.Event, r.Account, r.Channel, r.OccurredAt, r.Prefix, r.Country, r.Amount)
			return nil
		})
		if err != nil || printed {
			return err
		}
		return t.writeCounted(inv.stdout, plural(n, "record", "records")+" held under the number's pseudonym")
	}
}

func dataSubjectsErase(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		raw, _, err := inv.client.call(ctx, http.MethodDelete, "/v1/data-subjects/"+url.PathEscape(inv.args[0]), nil, nil, nil)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(inv.stdout, "%s\n", strings.TrimSpace(string(raw)))
		return err
	}
}

// completion prints a bash completion script for every command and its flags:
// source <(ledgerctl completion bash).
func completion(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		if inv.args[0] != "bash" {
			return usagef("only bash is supported: ledgerctl completion bash")
		}
		return writeBashCompletion(inv.stdout)
	}
}

// allCommands is commands, read through a function: the table holds completion, which reads
// the table.
var allCommands func() []command

func init() { allCommands = func() []command { return commands } }

func writeBashCompletion(w io.Writer) error {
	firsts := map[string]map[string]bool{}
	flags := map[string][]string{}
	for _, c := range allCommands() {
		words := strings.Fields(c.words)
		if firsts[words[0]] == nil {
			firsts[words[0]] = map[string]bool{}
		}
		if len(words) > 1 {
			firsts[words[0]][words[1]] = true
		}
		fs := flag.NewFlagSet(c.words, flag.ContinueOnError)
		defineGlobals(fs)
		c.setup(fs)
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
		flags[c.words] = names
	}
	var b strings.Builder
	b.WriteString("# bash completion for ledgerctl: source <(ledgerctl completion bash)\n_ledgerctl() {\n")
	b.WriteString("  local cur=${COMP_WORDS[COMP_CWORD]} w1=${COMP_WORDS[1]} w2=${COMP_WORDS[2]}\n")
	b.WriteString("  case $COMP_CWORD in\n")
	var tops []string
	for f := range firsts {
		tops = append(tops, f)
	}
	sort.Strings(tops)
	fmt.Fprintf(&b, "    1) COMPREPLY=($(compgen -W %q -- \"$cur\")); return;;\n", strings.Join(append(tops, "help"), " "))
	b.WriteString("    2) case $w1 in\n")
	for _, f := range tops {
		var subs []string
		for s := range firsts[f] {
			subs = append(subs, s)
		}
		sort.Strings(subs)
		if len(subs) > 0 {
			fmt.Fprintf(&b, "         %s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return;;\n", f, strings.Join(subs, " "))
		}
	}
	b.WriteString("       esac;;\n  esac\n  case \"$w1 $w2\" in\n")
	var names []string
	for n := range flags {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pattern := strings.ReplaceAll(n, " ", `\ `)
		if !strings.Contains(n, " ") {
			pattern = n + `\ *`
		}
		fmt.Fprintf(&b, "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\"));;\n", pattern, strings.Join(flags[n], " "))
	}
	b.WriteString("  esac\n}\ncomplete -F _ledgerctl ledgerctl\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// accountsEntries lists an account's journal entries (CONTRACT 3.1), oldest first.
func accountsEntries(fs *flag.FlagSet) action {
	from := fs.String("from", "", "from this instant, RFC 3339")
	to := fs.String("to", "", "before this instant, RFC 3339")
	return func(ctx context.Context, inv *invocation) error {
		q := query("from", *from, "to", *to)
		t := newTable("ID", "AT", "KIND", "LEDGER ACCOUNT", "AMOUNT", "EVENTS", "MEMO").alignRight(0, 4, 5)
		n, printed, err := listRows(ctx, inv, accountPath(inv.args[0])+"/entries", q, func(e wire.Entry) error {
			t.add(fmt.Sprint(e.ID), e.At, e.Kind, e.LedgerAccount, e.Amount, fmt.Sprint(e.Events), e.Memo)
			return nil
		})
		if err != nil || printed {
			return err
		}
		return t.writeCounted(inv.stdout, plural(n, "entry", "entries"))
	}
}

// authorize asks whether an account may send (R4, T&C 3.5; R9), as a platform service does.
func authorize(fs *flag.FlagSet) action {
	account := fs.String("account", "", "the account; required")
	channel := fs.String("channel", "sms", "the traffic's channel")
	product := fs.String("product", "", "for ott the messaging product")
	destination := fs.String("destination", "", "E.164 number; required but for professional services")
	quantity := fs.Int64("quantity", 1, "parts, seconds, messages or minutes, as a usage event counts them")
	return func(ctx context.Context, inv *invocation) error {
		if err := required("account", *account); err != nil {
			return err
		}
		var out billing.AuthorizeResponse
		body := billing.AuthorizeRequest{Account: *account, Channel: *channel, Product: *product, Destination: *destination, Quantity: *quantity}
		_, printed, err := inv.answer(ctx, http.MethodPost, "/v1/authorize", nil, body, &out)
		if err != nil || printed {
			return err
		}
		verdict := "allowed"
		if !out.Allowed {
			verdict = "refused: " + out.Reason
		}
		_, err = fmt.Fprintf(inv.stdout, "%s (estimate %s EUR)\n", verdict, out.Estimate)
		return err
	}
}

// refund asks for a prepaid balance back; the ledger refuses it, saying why (T&C 3.13).
func refund(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		_, _, err := inv.answer(ctx, http.MethodPost, accountPath(inv.args[0])+"/refunds", nil, map[string]any{}, nil)
		return err
	}
}
