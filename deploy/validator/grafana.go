package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// panel is the part of a Grafana dashboard panel these checks read.
type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// checkGrafana checks the dashboard — JSON, unique panel ids, every query with a refId and an
// expression on the dashboard's data source variable, no two panels on the same cells of the
// grid — and the provisioning files compose mounts (decoded strictly: a misspelt key fails).
func checkGrafana(p *problems, dashboardPath, provisioning string) {
	before := len(p.list)
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		p.addf("%v", err)
		return
	}
	var dash struct {
		UID    string  `json:"uid"`
		Title  string  `json:"title"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		p.addf("%s: not JSON a dashboard: %v", dashboardPath, err)
		return
	}
	if dash.UID == "" || dash.Title == "" {
		p.addf("%s: no uid or title", dashboardPath)
	}
	ids := map[int]string{}
	cells := map[[2]int]string{}
	queries := 0
	for _, pn := range dash.Panels {
		where := fmt.Sprintf("%s: panel %q", dashboardPath, pn.Title)
		for x := pn.GridPos.X; x < pn.GridPos.X+pn.GridPos.W; x++ {
			for y := pn.GridPos.Y; y < pn.GridPos.Y+pn.GridPos.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					p.addf("%s: overlaps panel %q at x=%d y=%d", where, other, x, y)
					goto placed
				}
				cells[[2]int{x, y}] = pn.Title
			}
		}
	placed:
		if pn.GridPos.X+pn.GridPos.W > 24 || pn.GridPos.W <= 0 || pn.GridPos.H <= 0 {
			p.addf("%s: gridPos %+v is outside the 24 columns", where, pn.GridPos)
		}
		if pn.Type == "row" {
			continue
		}
		if other, ok := ids[pn.ID]; ok || pn.ID == 0 {
			p.addf("%s: id %d missing or the same as panel %q's", where, pn.ID, other)
		}
		ids[pn.ID] = pn.Title
		if pn.Datasource == nil || pn.Datasource.UID != "${datasource}" {
			p.addf("%s: want the data source ${datasource}", where)
		}
		if len(pn.Targets) == 0 {
			p.addf("%s: no queries", where)
		}
		refs := map[string]bool{}
		for _, t := range pn.Targets {
			if t.RefID == "" || t.Expr == "" || refs[t.RefID] {
				p.addf("%s: a query without an expression or a refId of its own", where)
			}
			refs[t.RefID] = true
			queries++
		}
	}

	var datasources struct {
		APIVersion  int `json:"apiVersion"`
		Datasources []struct {
			Name      string         `json:"name"`
			UID       string         `json:"uid"`
			Type      string         `json:"type"`
			Access    string         `json:"access"`
			URL       string         `json:"url"`
			IsDefault bool           `json:"isDefault"`
			Editable  bool           `json:"editable"`
			JSONData  map[string]any `json:"jsonData"`
		} `json:"datasources"`
	}
	strictYAML(p, filepath.Join(provisioning, "datasources", "prometheus.yaml"), &datasources)
	if len(datasources.Datasources) != 1 || datasources.Datasources[0].Type != "prometheus" || !datasources.Datasources[0].IsDefault {
		p.addf("%s: want one Prometheus data source, the default (the dashboard picks the default)", provisioning)
	}
	var dashboards struct {
		APIVersion int `json:"apiVersion"`
		Providers  []struct {
			Name                  string `json:"name"`
			OrgID                 int    `json:"orgId"`
			Folder                string `json:"folder"`
			Type                  string `json:"type"`
			DisableDeletion       bool   `json:"disableDeletion"`
			AllowUIUpdates        bool   `json:"allowUiUpdates"`
			UpdateIntervalSeconds int    `json:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `json:"path"`
				FoldersFromFilesStructure bool   `json:"foldersFromFilesStructure"`
			} `json:"options"`
		} `json:"providers"`
	}
	strictYAML(p, filepath.Join(provisioning, "dashboards", "ledger.yaml"), &dashboards)
	if len(dashboards.Providers) != 1 || dashboards.Providers[0].Type != "file" || dashboards.Providers[0].Options.Path == "" {
		p.addf("%s: want one file provider with a path", provisioning)
	}
	if len(p.list) == before {
		fmt.Printf("ok: %s: %d panels, %d queries; provisioning: data source and dashboard provider\n", dashboardPath, len(ids), queries)
	}
}

func strictYAML(p *problems, path string, into any) {
	raw, err := os.ReadFile(path)
	if err != nil {
		p.addf("%v", err)
		return
	}
	if err := yaml.UnmarshalStrict(raw, into); err != nil {
		p.addf("%s: %v", path, err)
	}
}
