package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the API refused, ledgerd could not be reached, or a file could not be read
	exitUsage = 2 // the command line is wrong
)

// DefaultServer is where ledgerd listens unless --server or LEDGER_SERVER say otherwise
// (CONTRACT 1: --http defaults to 127.0.0.1:8080).
const DefaultServer = "http://127.0.0.1:8080"

// globals are the flags every command takes.
type globals struct {
	server string
	token  string
	json   bool
}

// invocation is what a command runs with.
type invocation struct {
	client *client
	args   []string  // the words after the command's own
	json   bool      // print the API's JSON instead of tables
	stdin  io.Reader // a file named "-" is read from it
	stdout io.Writer
	stderr io.Writer
}

// action runs a command whose flags have been parsed.
type action func(ctx context.Context, inv *invocation) error

// command is one thing ledgerctl does. setup defines the command's flags on fs and returns
// what runs once they are parsed.
type command struct {
	words    string // "invoices list"
	synopsis string // flags and arguments, for the usage
	summary  string
	args     int // positional arguments after the words
	setup    func(fs *flag.FlagSet) action
}

// commands is every command, in the order the usage lists them.
var commands = []command{
	{words: "accounts create", synopsis: "ID --name NAME [--type postpaid|prepaid] [--country NL] [--vat-id V] [--email E] [--street S --city C --postal-code P] [--peppol-id SCHEME:ID] [--credit-limit 5000.00] [--payment-terms-days 14] [--no-indexation] [--registered-at RFC3339]", args: 1,
		summary: "open an account (admin; CONTRACT 3.1); the same again changes nothing", setup: accountsCreate},
	{words: "accounts show", synopsis: "ID", args: 1,
		summary: "an account: who, where it stands (exposure, unbilled, outstanding or prepaid balance), what its invoices lack", setup: accountsShow},
	{words: "accounts list", synopsis: "",
		summary: "every account, every page, with its balances", setup: accountsList},
	{words: "accounts update", synopsis: "ID [--name N] [--email E] [--vat-id V] [--street S --city C --postal-code P] [--peppol-id SCHEME:ID]", args: 1,
		summary: "change an account's details (finance); invoices issued keep what they printed", setup: accountsUpdate},
	{words: "accounts set-limit", synopsis: "ID --amount 7500.00", args: 1,
		summary: "set the credit limit with immediate effect (finance; T&C 3.6)", setup: accountsSetLimit},
	{words: "accounts terminate", synopsis: "ID [--at RFC3339]", args: 1,
		summary: "end the agreement (admin): invoices due at once, unbilled usage invoiced due on issue (R13)", setup: accountsTerminate},
	{words: "accounts entries", synopsis: "ID [--from RFC3339] [--to RFC3339]", args: 1,
		summary: "the account's journal entries, oldest first, every page", setup: accountsEntries},
	{words: "accounts refund", synopsis: "ID", args: 1,
		summary: "ask for a prepaid balance back: refused, saying why (T&C 3.13)", setup: refund},
	{words: "authorize", synopsis: "--account A [--channel sms] --destination +31… [--quantity 1] [--product P]",
		summary: "may this account send? as platform services ask (R4, T&C 3.5; R9)", setup: authorize},
	{words: "usage send", synopsis: "--account A [--channel sms] [--destination +31612345678] [--quantity 1] [--product P] [--caller-id +31…] [--occurred-at RFC3339] [--id ID] [--nats URL]",
		summary: "publish one usage event over NATS as a platform service would (to ledgerd's NATS server unless --nats)", setup: usageSend},
	{words: "topups add", synopsis: "ACCOUNT --id T --amount 50.00 --method card|bank [--received-at RFC3339]", args: 1,
		summary: "book a prepaid top-up (finance): usable from the next day (T&C 3.13)", setup: topUpsAdd},
	{words: "topups list", synopsis: "ACCOUNT", args: 1,
		summary: "a prepaid account's top-ups (lots): remaining, usable from, expiry", setup: topUpsList},
	{words: "chargebacks add", synopsis: "ACCOUNT --id C --topup T --amount 20.00 [--at RFC3339]", args: 1,
		summary: "a card top-up reversed (finance): set off, owed, perhaps closed (R10, T&C 3.14)", setup: chargebacksAdd},
	{words: "rejected list", synopsis: "[--reason R]",
		summary: "the parked events, with why (finance; R1)", setup: rejectedList},
	{words: "rejected replay", synopsis: "[--reason R]",
		summary: "charge the parked events whose cause is fixed (admin); the others stay parked", setup: rejectedReplay},
	{words: "invoices list", synopsis: "[--account A] [--period YYYY-MM] [--status open|paid|overdue|disputed|credited]",
		summary: "list invoices, every page, with a total line", setup: invoicesList},
	{words: "invoices show", synopsis: "ID", args: 1,
		summary: "one invoice with its lines, VAT breakdown and notes", setup: invoicesShow},
	{words: "invoices export", synopsis: "--period YYYY-MM --format csv|ubl|pdf --out DIR",
		summary: "a period's invoices into DIR: invoices-PERIOD.csv, or one UBL or PDF file per invoice", setup: invoicesExport},
	{words: "payments add", synopsis: "--account A --id P --amount 90.75 [--received-at RFC3339] [--invoice INV-…] [--non-sepa]",
		summary: "book a payment and show what it paid (T&C 3.7, 3.9)", setup: paymentsAdd},
	{words: "disputes open", synopsis: "--invoice INV-… --id D --amount 30.25 --reason TEXT [--at RFC3339]",
		summary: "dispute part of what an invoice asks (with VAT), within the payment term (T&C 3.11)", setup: disputesOpen},
	{words: "disputes show", synopsis: "ID", args: 1,
		summary: "a dispute and where it stands (R7)", setup: disputesShow},
	{words: "disputes resolve", synopsis: "--id D --outcome accepted|rejected",
		summary: "close a dispute: accepted credits it, rejected makes it due at once (R7)", setup: disputesResolve},
	{words: "credit-notes list", synopsis: "[--account A]",
		summary: "credit notes, every page, with the invoice each credits", setup: creditNotesList},
	{words: "credit-notes show", synopsis: "ID", args: 1,
		summary: "one credit note with its lines and totals", setup: creditNotesShow},
	{words: "billing-runs run", synopsis: "--period YYYY-MM",
		summary: "invoice an ended period that has not run yet (R5); a period runs once", setup: billingRunsRun},
	{words: "prices set", synopsis: "ACCOUNT FILE.csv|-", args: 2,
		summary: "make a prices.csv-form list (- reads stdin; at most 1 MiB) the account's agreed prices (T&C 2.7)", setup: pricesSet},
	{words: "prices show", synopsis: "ACCOUNT", args: 1,
		summary: "the account's agreed prices in force, or that it pays the list prices", setup: pricesShow},
	{words: "prices list", synopsis: "[--at RFC3339|YYYY-MM-DD] [--account A]",
		summary: "the prices in force, indexed (R3), and the surcharges; with --account its agreed prices first", setup: pricesList},
	{words: "claims file", synopsis: "ACCOUNT --id C --amount 250.00 --incident RFC3339 --reason TEXT", args: 1,
		summary: "file a claim for damages: granted what the liability cap leaves, the rest refused (R12, T&C 8.4)", setup: claimsFile},
	{words: "claims list", synopsis: "ACCOUNT", args: 1,
		summary: "the account's claims in the order filed, each with what it was granted", setup: claimsList},
	{words: "liability", synopsis: "ACCOUNT", args: 1,
		summary: "the account's liability cap, paid in its 12 months, granted and remaining (T&C 8.4)", setup: liabilityShow},
	{words: "audit", synopsis: "[--account A]",
		summary: "every write through the API (and look at a data subject), oldest first: who, what, how it was answered (admin, CONTRACT 3.10)", setup: auditList},
	{words: "data-subjects show", synopsis: "+E164", args: 1,
		summary: "what is held under a number's pseudonym (admin; R14, CONTRACT 3.6)", setup: dataSubjectsShow},
	{words: "data-subjects erase", synopsis: "+E164", args: 1,
		summary: "remove a number's pseudonym from every record; amounts stay (admin; R14)", setup: dataSubjectsErase},
	{words: "info", synopsis: "",
		summary: "which ledgerd answers: its instance name, whether it leads (ingests and runs the once-only jobs), its NATS, the test clock", setup: infoShow},
	{words: "clock show", synopsis: "",
		summary: "the test clock's time (ledgerd --test-clock)", setup: clockShow},
	{words: "clock set", synopsis: "RFC3339", args: 1,
		summary: "move the test clock forward; returns once everything due has run (admin)", setup: clockSet},
	{words: "completion", synopsis: "bash", args: 1,
		summary: "a shell completion script: source <(ledgerctl completion bash)", setup: completion},
	{words: "db copy", synopsis: "--from URL --to URL",
		summary: "with ledgerd stopped, copy the whole ledger into an empty database (SQLite ⇄ PostgreSQL) and verify both ends", setup: dbCopy},
	{words: "db status", synopsis: "[--db URL]",
		summary: "the database's schema version against this release's, read only (--db or LEDGER_DB)", setup: dbStatus},
	{words: "db check", synopsis: "[--db URL]",
		summary: "with ledgerd stopped, check the ledger's invariants over the whole database (--db or LEDGER_DB)", setup: dbCheck},
}

// usageError is a wrong command line: exit 2 with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// required refuses the first of the flags (name, value pairs) left empty.
func required(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return usagef("--%s is required", pairs[i])
		}
	}
	return nil
}

// run is ledgerctl: it parses args, runs the command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	words, flagArgs := splitArgs(args, boolFlags())
	if len(words) == 0 {
		if hasHelpFlag(flagArgs) {
			printUsage(stdout)
			return exitOK
		}
		printUsage(stderr)
		return exitUsage
	}
	if words[0] == "help" {
		if len(words) == 1 {
			printUsage(stdout)
			return exitOK
		}
		cmd, _, ok := findCommand(words[1:])
		if !ok {
			fmt.Fprintf(stderr, "ledgerctl: unknown command %q\n\n", strings.Join(words[1:], " "))
			printUsage(stderr)
			return exitUsage
		}
		printCommandUsage(stdout, cmd)
		return exitOK
	}
	cmd, rest, ok := findCommand(words)
	if !ok {
		fmt.Fprintf(stderr, "ledgerctl: unknown command %q\n\n", strings.Join(words, " "))
		printUsage(stderr)
		return exitUsage
	}

	fs := flag.NewFlagSet("ledgerctl "+cmd.words, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	g := defineGlobals(fs)
	act := cmd.setup(fs)
	if err := fs.Parse(flagArgs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandUsage(stdout, cmd)
			return exitOK
		}
		return usageFailure(stderr, cmd, err)
	}
	if fs.NArg() > 0 {
		rest = append(rest, fs.Args()...)
	}
	if len(rest) != cmd.args {
		if len(rest) < cmd.args {
			return usageFailure(stderr, cmd, usagef("%s needs %s", cmd.words, cmd.synopsis))
		}
		return usageFailure(stderr, cmd, usagef("unexpected arguments %q", rest[cmd.args:]))
	}
	if g.token == "" {
		g.token = os.Getenv("LEDGER_TOKEN")
	}
	c, err := newClient(g.server, g.token)
	if err != nil {
		return usageFailure(stderr, cmd, err)
	}
	err = act(ctx, &invocation{client: c, args: rest, json: g.json, stdin: stdin, stdout: stdout, stderr: stderr})
	var usage usageError
	var api *apiError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		return usageFailure(stderr, cmd, err)
	case errors.As(err, &api):
		// The server's message names the rule that refused, e.g. "(T&C 3.11)".
		fmt.Fprintf(stderr, "ledgerctl: %s: %s\n", api.Code, api.Message)
	default:
		fmt.Fprintf(stderr, "ledgerctl: %v\n", err)
	}
	return exitError
}

func usageFailure(stderr io.Writer, cmd command, err error) int {
	fmt.Fprintf(stderr, "ledgerctl: %v\n\n", err)
	printCommandUsage(stderr, cmd)
	return exitUsage
}

func defineGlobals(fs *flag.FlagSet) *globals {
	g := &globals{}
	server := os.Getenv("LEDGER_SERVER")
	if server == "" {
		server = DefaultServer
	}
	fs.StringVar(&g.server, "server", server, "ledgerd's address (env LEDGER_SERVER)")
	// The token's env value is read after parsing, so that no usage text ever prints it.
	fs.StringVar(&g.token, "token", "", "API token, sent as Authorization: Bearer TOKEN, when ledgerd runs with --api-tokens (env LEDGER_TOKEN)")
	fs.BoolVar(&g.json, "json", false, "print the API's JSON instead of tables")
	fs.Func("o", "output: table (the default) or json (as --json)", func(v string) error {
		switch v {
		case "json":
			g.json = true
		case "table":
			g.json = false
		default:
			return fmt.Errorf("-o %q: table or json", v)
		}
		return nil
	})
	return g
}

// findCommand matches the leading words of a command line to a command and returns the words
// left over, which are its arguments.
func findCommand(words []string) (command, []string, bool) {
	for _, cmd := range commands {
		name := strings.Fields(cmd.words)
		if len(words) >= len(name) && strings.Join(words[:len(name)], " ") == cmd.words {
			return cmd, words[len(name):], true
		}
	}
	return command{}, nil, false
}

// boolFlags names every flag, of any command, that takes no value: splitArgs needs them to
// know whether the word after a flag is its value.
func boolFlags() map[string]bool {
	out := map[string]bool{"h": true, "help": true}
	for _, cmd := range commands {
		fs := flag.NewFlagSet(cmd.words, flag.ContinueOnError)
		defineGlobals(fs)
		cmd.setup(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				out[f.Name] = true
			}
		})
	}
	return out
}

// splitArgs separates the words of a command line (command and arguments) from its flags, so
// that flags may come before, between or after the words. The standard flag package stops at
// the first word; this lets it see all the flags at once. After "--" everything is a word.
func splitArgs(args []string, boolFlags map[string]bool) (words, flags []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(words, args[i+1:]...), flags
		}
		if len(arg) < 2 || arg[0] != '-' {
			words = append(words, arg)
			continue
		}
		flags = append(flags, arg)
		name := strings.TrimLeft(arg, "-")
		if strings.Contains(name, "=") || boolFlags[name] {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return words, flags
}

func hasHelpFlag(flags []string) bool {
	for _, f := range flags {
		if name := strings.TrimLeft(f, "-"); name == "h" || name == "help" {
			return true
		}
	}
	return false
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `ledgerctl is the finance and operations CLI of ledgerd, over its HTTP API.

Usage:
  ledgerctl COMMAND [flags]

Commands:
`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %s %s\n      %s\n", cmd.words, cmd.synopsis, cmd.summary)
	}
	fmt.Fprintf(w, `  help [COMMAND]
      this text, or one command's flags

Flags of every command (before or after the command's words):
  --server URL   ledgerd's address (env LEDGER_SERVER; default %s)
  --token TOKEN  API token when ledgerd runs with --api-tokens (env LEDGER_TOKEN)
  --json         print the API's JSON instead of tables

Exit status: 0 done (a claim refused in part or whole too: it is filed), 1 refused by the API,
ledgerd unreachable or a file not read, 2 wrong command line.
`, DefaultServer)
}

func printCommandUsage(w io.Writer, cmd command) {
	fmt.Fprintf(w, "Usage: ledgerctl %s %s\n  %s\n\nFlags:\n", cmd.words, cmd.synopsis, cmd.summary)
	fs := flag.NewFlagSet(cmd.words, flag.ContinueOnError)
	defineGlobals(fs)
	cmd.setup(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
