package console

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/chromedp/chromedp"

	"github.com/firebreak-ir/firebreak/actions/all"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
	"github.com/firebreak-ir/firebreak/playbooks"
)

const hostileName = `<script>alert(1)</script>`

// motoWorld is a console over moto: every action family registered with
// clients that reach it, the built-in playbooks, and an inventory of the
// regions given.
type motoWorld struct {
	*world
	moto *testenv.Moto
	cfg  aws.Config
}

func newMotoWorld(t *testing.T, regions ...string) *motoWorld {
	t.Helper()
	m := testenv.StartMoto(t)
	cfg := m.Config()
	clients := awsapi.NewClients(cfg)
	reg := all.Registry(clients, all.Options{})
	cat := &loader.Catalog{Dirs: []string{"testdata/playbooks"}, Builtin: playbooks.FS, Loader: &loader.Loader{Registry: reg}}
	w := newWorldWith(t, reg, cat, func(c *Config) {
		c.EC2 = func(region string) EC2 { return clients.EC2(region) }
		c.Regions, c.HomeRegion = regions, m.Region
	})
	return &motoWorld{world: w, moto: m, cfg: cfg}
}

func (m *motoWorld) ec2(region string) *ec2.Client {
	cfg := m.cfg.Copy()
	cfg.Region = region
	return ec2.NewFromConfig(cfg)
}

// launch starts n instances in region from any AMI moto has there.
func (m *motoWorld) launch(t testing.TB, region, kind string, n int, tags ...types.Tag) []string {
	t.Helper()
	ctx := context.Background()
	c := m.ec2(region)
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("no AMI in %s: %v", region, err)
	}
	in := &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceType(kind),
		MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n))}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: tags}}
	}
	out, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// count is the number of instances the SDK describes in region.
func (m *motoWorld) count(t *testing.T, region string) int {
	t.Helper()
	n := 0
	p := ec2.NewDescribeInstancesPaginator(m.ec2(region), &ec2.DescribeInstancesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reservations {
			n += len(r.Instances)
		}
	}
	return n
}

type apiInventory struct {
	Regions   []regionCount `json:"regions"`
	Instances []instance    `json:"instances"`
}

func (m *motoWorld) inventory(t *testing.T, query string) apiInventory {
	t.Helper()
	body, code := m.get(m.client(), "/api/instances"+query, m.tokens.Viewer)
	if code != http.StatusOK {
		t.Fatalf("GET /api/instances%s: %d %s", query, code, body)
	}
	var inv apiInventory
	if err := json.Unmarshal([]byte(body), &inv); err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestInventoryOnMoto: every region DescribeRegions gives is read; the
// counts per region are the SDK's; each instance has its type's memory,
// its volumes' sizes and a capture estimate; filters narrow by region,
// text and state; the cache serves until refresh.
func TestInventoryOnMoto(t *testing.T) {
	m := newMotoWorld(t) // no fixed regions: ec2:DescribeRegions
	web := m.launch(t, "eu-west-1", "m5.large", 3, types.Tag{Key: aws.String("team"), Value: aws.String("web")})
	m.launch(t, "ap-southeast-2", "t3.micro", 2)
	inv := m.inventory(t, "")
	counts := map[string]int{}
	for _, r := range inv.Regions {
		if r.Error != "" {
			t.Errorf("region %s: %s", r.Region, r.Error)
		}
		counts[r.Region] = r.Count
	}
	if len(inv.Regions) < 10 {
		t.Errorf("only %d regions read: %v", len(inv.Regions), counts)
	}
	for _, r := range []string{"eu-west-1", "ap-southeast-2", "us-east-1"} {
		if counts[r] != m.count(t, r) {
			t.Errorf("%s: %d in the inventory, %d by the SDK", r, counts[r], m.count(t, r))
		}
	}
	if counts["eu-west-1"] != 3 || counts["ap-southeast-2"] != 2 {
		t.Errorf("counts %v", counts)
	}
	var got *instance
	for i := range inv.Instances {
		if inv.Instances[i].ID == web[0] {
			got = &inv.Instances[i]
		}
	}
	if got == nil {
		t.Fatalf("instance %s not in the inventory", web[0])
	}
	if got.MemoryMiB != 8192 || got.CaptureSeconds != 82 || got.Region != "eu-west-1" || got.Tags["team"] != "web" {
		t.Errorf("m5.large instance: %+v", got)
	}
	if len(got.Volumes) == 0 || got.Volumes[0].SizeGiB == 0 {
		t.Errorf("volumes: %+v", got.Volumes)
	}
	if n := len(m.inventory(t, "?region=ap-southeast-2").Instances); n != 2 {
		t.Errorf("?region=ap-southeast-2: %d", n)
	}
	if n := len(m.inventory(t, "?q=TEAM%3Dweb").Instances); n != 3 {
		t.Errorf("?q=team=web: %d", n)
	}
	if n := len(m.inventory(t, "?q="+web[1]).Instances); n != 1 {
		t.Errorf("?q=ID: %d", n)
	}
	if n := len(m.inventory(t, "?state=stopped").Instances); n != 0 {
		t.Errorf("?state=stopped: %d", n)
	}
	// Cached: a new instance shows only after a refresh.
	m.launch(t, "eu-west-1", "t3.micro", 1)
	if n := len(m.inventory(t, "?region=eu-west-1").Instances); n != 3 {
		t.Errorf("from cache: %d in eu-west-1, want the 3 read before", n)
	}
	if n := len(m.inventory(t, "?region=eu-west-1&refresh=1").Instances); n != 4 {
		t.Errorf("after refresh: %d in eu-west-1, want 4", n)
	}
}

// TestBrowserInventoryStartsHostCompromise: in chromium, the inventory
// shows an instance named <script>alert(1)</script> as text (no dialog,
// no console error), on the map and in the charts; the instance page
// shows its memory, disks and capture estimate; selecting it and
// host-compromise shows the plan with --check, and confirming runs it: the
// instance is isolated in moto (read back through the SDK), and the
// inventory, refreshed, shows it under the case, isolated.
func TestBrowserInventoryStartsHostCompromise(t *testing.T) {
	m := newMotoWorld(t, "us-east-1", "eu-west-1")
	fx, err := awsfixture.Build(t.Context(), m.cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := fx.InstanceID
	if _, err := m.ec2("us-east-1").CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{id},
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(hostileName)}}}); err != nil {
		t.Fatal(err)
	}
	m.launch(t, "eu-west-1", "t3.micro", 2)
	b := m.browser()
	b.login(m.tokens.Responder)
	b.do(chromedp.Navigate(m.srv.URL+"/inventory"), chromedp.WaitVisible(chromedp.CSS("#instances")))
	row := `#instances tr[data-instance="` + id + `"]`
	if got := b.text(row + " td.name"); got != hostileName {
		t.Errorf("the hostile name shows as %q", got)
	}
	if n := b.eval(`String(document.querySelectorAll("main script").length)`); n != "0" {
		t.Errorf("%s script elements in the page", n)
	}
	if got := b.text(`#regions tr[data-region="eu-west-1"] .count`); got != "2" {
		t.Errorf("eu-west-1 count: %q", got)
	}
	if n := b.eval(`String(document.querySelectorAll("#map g.region-marker").length)`); n != "2" {
		t.Errorf("%s markers on the map, want 2", n)
	}
	b.shot("inventory")
	// The table filter hides every other row.
	b.do(chromedp.SendKeys(chromedp.CSS("#narrow"), id))
	if n := b.eval(`String(document.querySelectorAll("#instances tbody tr:not(.hidden)").length)`); n != "1" {
		t.Errorf("narrowed to the id: %s rows shown", n)
	}
	b.do(chromedp.Navigate(m.srv.URL+"/instances/us-east-1/"+id), chromedp.WaitVisible(chromedp.CSS("#memory")))
	if got := b.text("#memory"); got != "1.0 GiB" {
		t.Errorf("memory of a t3.micro: %q", got)
	}
	if got := b.text("#disk-total"); !strings.HasPrefix(got, "2 volumes") {
		t.Errorf("disks: %q", got)
	}
	if got := b.text("#estimate"); !strings.Contains(got, "about 10s") {
		t.Errorf("capture estimate: %q", got)
	}
	if got := b.text("h1"); !strings.Contains(got, id) {
		t.Errorf("instance page title %q", got)
	}
	b.shot("instance")
	b.do(chromedp.Navigate(m.srv.URL+"/inventory"), chromedp.WaitVisible(chromedp.CSS("#instances")),
		chromedp.Click(chromedp.CSS(row+" input.pick")),
		chromedp.SetValue(chromedp.CSS("#playbook"), "host-compromise"),
		chromedp.Click(chromedp.CSS("#plan")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")))
	plan := b.text("pre.plan")
	if !strings.Contains(plan, "isolate") || !strings.Contains(plan, id) {
		t.Errorf("the plan: %s", plan)
	}
	b.shot("plan")
	b.do(chromedp.Click(chromedp.CSS("#run")), chromedp.WaitVisible(chromedp.CSS("#run-status.s-succeeded")))
	runID := b.eval(`document.getElementById("run").getAttribute("data-run")`)
	b.shot("run-host-compromise")
	b.clean()
	v := m.waitRun(runID, "its end", ended)
	if v.Status != engine.RunSucceeded || v.step("isolate").Status != engine.StatusSucceeded {
		t.Fatalf("host-compromise: %+v", v)
	}
	out, err := m.ec2("us-east-1").DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range out.Reservations[0].Instances[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["firebreak:status"] != "isolated" || tags["firebreak:case"] != v.CaseID {
		t.Errorf("instance tags after the run: %v (case %s)", tags, v.CaseID)
	}
	// moto describes an ENI with the instance's launch groups too: ask by
	// the group-id filter, which reads the ENI's own groups (as AWS does).
	fc := awsfixture.NewClients(m.cfg)
	for eni, groups := range fx.GroupsByENI {
		for _, g := range groups {
			in, err := fc.ENIsInGroup(t.Context(), g)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range in {
				if e == eni {
					t.Errorf("ENI %s still in its group %s after isolation", eni, g)
				}
			}
		}
	}
	b.do(chromedp.Navigate(m.srv.URL+"/inventory?refresh=1"), chromedp.WaitVisible(chromedp.CSS("#instances")))
	if got := b.text(row + " td.case"); !strings.Contains(got, v.CaseID) || !strings.Contains(got, "isolated") {
		t.Errorf("the refreshed inventory's case column: %q", got)
	}
	b.clean()
}
