package console

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// regionCoords are each region's city (latitude, longitude), for the map.
var regionCoords = map[string][2]float64{
	"us-east-1": {38.9, -77.4}, "us-east-2": {40.0, -83.0}, "us-west-1": {37.4, -122.0}, "us-west-2": {45.8, -119.7},
	"ca-central-1": {45.5, -73.6}, "ca-west-1": {51.0, -114.1}, "mx-central-1": {20.6, -100.4}, "sa-east-1": {-23.5, -46.6},
	"eu-west-1": {53.3, -6.3}, "eu-west-2": {51.5, -0.1}, "eu-west-3": {48.9, 2.4}, "eu-central-1": {50.1, 8.7},
	"eu-central-2": {47.4, 8.5}, "eu-north-1": {59.3, 18.1}, "eu-south-1": {45.5, 9.2}, "eu-south-2": {41.6, -0.9},
	"me-south-1": {26.1, 50.6}, "me-central-1": {25.2, 55.3}, "il-central-1": {32.1, 34.8}, "af-south-1": {-33.9, 18.4},
	"ap-east-1": {22.3, 114.2}, "ap-east-2": {25.0, 121.5}, "ap-south-1": {19.1, 72.9}, "ap-south-2": {17.4, 78.5},
	"ap-northeast-1": {35.7, 139.7}, "ap-northeast-2": {37.6, 127.0}, "ap-northeast-3": {34.7, 135.5},
	"ap-southeast-1": {1.35, 103.8}, "ap-southeast-2": {-33.9, 151.2}, "ap-southeast-3": {-6.2, 106.8},
	"ap-southeast-4": {-37.8, 145.0}, "ap-southeast-5": {3.1, 101.7}, "ap-southeast-7": {13.7, 100.5},
	"us-gov-west-1": {45.6, -122.7}, "us-gov-east-1": {39.96, -83.0}, "cn-north-1": {39.9, 116.4}, "cn-northwest-1": {37.5, 105.2},
}

// land is a rough outline of the continents (longitude, latitude), drawn
// by hand for the map: enough to place the regions, no more.
var land = [][][2]float64{
	{{-168, 66}, {-140, 70}, {-95, 72}, {-80, 63}, {-60, 55}, {-52, 47}, {-66, 44}, {-75, 35}, {-81, 25}, {-97, 26}, {-97, 20}, {-87, 21}, {-83, 9}, {-78, 8}, {-92, 14}, {-105, 20}, {-112, 30}, {-117, 32}, {-124, 40}, {-124, 48}, {-135, 58}, {-150, 60}, {-165, 60}},
	{{-78, 8}, {-60, 10}, {-50, 0}, {-35, -7}, {-40, -22}, {-48, -28}, {-58, -38}, {-65, -55}, {-72, -50}, {-71, -30}, {-70, -18}, {-81, -5}},
	{{-10, 36}, {-9, 43}, {-2, 48}, {5, 54}, {5, 62}, {15, 70}, {30, 71}, {60, 70}, {80, 73}, {110, 77}, {140, 72}, {170, 70}, {180, 66}, {160, 60}, {142, 50}, {135, 43}, {128, 35}, {121, 31}, {122, 25}, {108, 21}, {106, 10}, {100, 13}, {103, 1}, {98, 8}, {92, 22}, {80, 15}, {77, 8}, {72, 20}, {67, 25}, {57, 25}, {52, 28}, {48, 30}, {55, 22}, {59, 22}, {52, 17}, {43, 13}, {35, 28}, {34, 31}, {28, 36}, {26, 40}, {20, 39}, {16, 38}, {12, 44}, {8, 44}, {3, 43}, {-5, 36}},
	{{-17, 21}, {-10, 30}, {-6, 35}, {10, 37}, {20, 32}, {32, 31}, {35, 28}, {43, 12}, {51, 12}, {40, -2}, {40, -15}, {35, -25}, {20, -35}, {15, -27}, {12, -10}, {9, 3}, {-8, 4}, {-17, 14}},
	{{114, -22}, {122, -18}, {131, -12}, {137, -12}, {142, -11}, {146, -19}, {153, -27}, {150, -37}, {141, -38}, {131, -31}, {115, -34}},
	{{-73, 78}, {-20, 82}, {-20, 70}, {-43, 60}, {-55, 65}},
	{{-5, 50}, {1, 51}, {-2, 56}, {-5, 58}, {-6, 55}},
	{{130, 31}, {135, 34}, {140, 36}, {142, 43}, {140, 42}, {136, 36}, {130, 33}},
	{{95, 5}, {106, -6}, {115, -8}, {120, -9}, {105, -7}},
}

const mapW, mapH = 720, 360

func project(lat, lon float64) (int, int) {
	return int((lon + 180) / 360 * mapW), int((90 - lat) / 180 * mapH)
}

type worldMap struct {
	W, H    int
	Land    []string // polygon points
	Markers []marker
}

type marker struct {
	Region     string
	Count      int
	X, Y, R    int
	LX, LY     int
	Error      string
	WithErrors bool
}

func drawMap(regions []regionCount) worldMap {
	m := worldMap{W: mapW, H: mapH}
	for _, poly := range land {
		pts := make([]string, len(poly))
		for i, p := range poly {
			x, y := project(p[1], p[0])
			pts[i] = fmt.Sprintf("%d,%d", x, y)
		}
		m.Land = append(m.Land, strings.Join(pts, " "))
	}
	for _, rc := range regions {
		c, ok := regionCoords[rc.Region]
		if !ok || (rc.Count == 0 && rc.Error == "") {
			continue
		}
		x, y := project(c[0], c[1])
		r := min(30, 4+int(3*math.Sqrt(float64(rc.Count))))
		m.Markers = append(m.Markers, marker{Region: rc.Region, Count: rc.Count, X: x, Y: y, R: r, LX: x + r + 2, LY: y + 4,
			Error: rc.Error, WithErrors: rc.Error != ""})
	}
	return m
}

// chart is a horizontal bar chart of counts, the largest first.
type chart struct {
	Title  string
	W, H   int
	Bars   []chartBar
	Others int // the count beyond the bars shown
}

type chartBar struct {
	Label, Link string
	Count       int
	Y, W, TY    int
}

const (
	chartLabelW = 200
	chartBarW   = 260
	chartRow    = 18
	chartTop    = 10
)

func drawChart(title, param string, counts map[string]int) chart {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range counts {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].k < all[j].k
	})
	c := chart{Title: title, W: chartLabelW + chartBarW + 60}
	top := 0
	if len(all) > 0 {
		top = all[0].n
	}
	for i, e := range all {
		if i == 10 {
			for _, rest := range all[10:] {
				c.Others += rest.n
			}
			break
		}
		y := chartTop + i*chartRow
		c.Bars = append(c.Bars, chartBar{Label: clip(e.k, 30), Link: "/inventory?" + param + "=" + urlQueryEscape(e.k), Count: e.n,
			Y: y, W: max(2, chartBarW*e.n/max(top, 1)), TY: y + 12})
	}
	c.H = chartTop*2 + len(c.Bars)*chartRow
	return c
}

type inventoryPage struct {
	Error     string
	At        time.Time
	Took      time.Duration
	Total     int
	Shown     []*instance
	Filter    filter
	Map       worldMap
	Regions   []regionCount
	Charts    []chart
	Playbooks []playbookRow // those with a target input
	Truncated int
}

// maxRows bounds the table of a page; the filter narrows it.
const maxRows = 2000

func (s *Server) inventoryPage(w http.ResponseWriter, r *http.Request, c caller) {
	snap, err := s.inv.get(r.Context(), r.URL.Query().Get("refresh") != "")
	p := inventoryPage{Filter: filterOf(r)}
	if err != nil {
		p.Error = err.Error()
		s.render(w, r, http.StatusOK, "inventory", c, p)
		return
	}
	p.At, p.Took, p.Total, p.Regions = snap.At, snap.Took, len(snap.Instances), snap.Regions
	p.Shown = p.Filter.apply(snap.Instances)
	if len(p.Shown) > maxRows {
		p.Truncated = len(p.Shown) - maxRows
		p.Shown = p.Shown[:maxRows]
	}
	p.Map = drawMap(snap.Regions)
	amis, kinds, platforms := map[string]int{}, map[string]int{}, map[string]int{}
	for _, in := range snap.Instances {
		amis[in.AMI]++
		kinds[in.Type]++
		platforms[in.Platform]++
	}
	p.Charts = []chart{drawChart("By AMI", "ami", amis), drawChart("By instance type", "type", kinds), drawChart("By platform", "q", platforms)}
	p.Playbooks = s.targetPlaybooks()
	s.render(w, r, http.StatusOK, "inventory", c, p)
}

// targetPlaybooks are the playbooks that take a target (the input marked
// target: true), which the inventory can start on the selected instances.
func (s *Server) targetPlaybooks() []playbookRow {
	rows, _ := s.playbookRows()
	var out []playbookRow
	for _, row := range rows {
		pb, err := s.cfg.Catalog.Find(row.Name)
		if err != nil {
			continue
		}
		if in, ok := targetInput(pb); ok && in.Name == "instance_id" {
			out = append(out, row)
		}
	}
	return out
}

func (s *Server) apiInstances(w http.ResponseWriter, r *http.Request, _ caller) {
	snap, err := s.inv.get(r.Context(), r.URL.Query().Get("refresh") != "")
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"read_at": snap.At, "regions": snap.Regions, "instances": filterOf(r).apply(snap.Instances)})
}

type instancePage struct {
	In        *instance
	Rate      float64
	Error     string
	Playbooks []playbookRow
}

func (s *Server) instancePage(w http.ResponseWriter, r *http.Request, c caller) {
	snap, err := s.inv.get(r.Context(), false)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	in, ok := snap.byID[r.PathValue("id")]
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no instance %q in the inventory read at %s: refresh it", r.PathValue("id"), snap.At.UTC().Format(time.RFC3339)))
		return
	}
	s.render(w, r, http.StatusOK, "instance", c, instancePage{In: in, Rate: s.inv.rate, Playbooks: s.targetPlaybooks()})
}
