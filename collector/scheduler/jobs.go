package scheduler

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/mx-exporter/mx_exporter/collector/prober"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/config"
)

// JobsFromConfig turns a validated config into jobs, with the settings of
// each module as built by prober.SettingsByModule.
func JobsFromConfig(cfg *config.Config, settings map[string]prober.Settings) ([]Job, error) {
	jobs := make([]Job, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		modName := t.Module
		if modName == "" {
			modName = config.DefaultModuleName
		}
		mod, ok := cfg.Module(modName)
		s, ok2 := settings[modName]
		if !ok || !ok2 {
			return nil, fmt.Errorf("target %s: no module %q", t.Name(), modName)
		}
		s.Timeout = cfg.TargetTimeout(t)

		target := prober.Target{Domain: t.Domain}
		if t.Host != "" {
			target = prober.Target{}
			target.Host, target.Port = t.HostPort()
		}
		// The fingerprint is a digest, not the JSON itself: it is kept
		// for every job, and 10,000 copies of a module add up.
		spec, err := json.Marshal(struct {
			Target *config.Target
			Module *config.Module
			DNS    config.DNS
		}{t, mod, cfg.DNS})
		if err != nil {
			return nil, err
		}
		fp := sha256.Sum256(spec)
		jobs = append(jobs, Job{
			Key:         store.Key(t.Name(), modName),
			Name:        t.Name(),
			Module:      modName,
			Target:      target,
			Settings:    s,
			Interval:    cfg.TargetInterval(t),
			Fingerprint: string(fp[:]),
		})
	}
	return jobs, nil
}
