package scheduler

import (
	"encoding/json"
	"fmt"

	"github.com/mx-exporter/mx_exporter/collector/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/prober"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/config"
)

// JobsFromConfig turns a validated config into jobs. resolver serves every
// job; each module's settings (and CA file) are built once.
func JobsFromConfig(cfg *config.Config, resolver *dnsmx.Resolver) ([]Job, error) {
	settings := map[string]prober.Settings{}
	jobs := make([]Job, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		modName := t.Module
		if modName == "" {
			modName = config.DefaultModuleName
		}
		mod, ok := cfg.Module(modName)
		if !ok {
			return nil, fmt.Errorf("target %s: no module %q", t.Name(), modName)
		}
		s, ok := settings[modName]
		if !ok {
			var err error
			if s, err = prober.FromModule(mod); err != nil {
				return nil, fmt.Errorf("module %s: %w", modName, err)
			}
			s.Resolver = resolver
			settings[modName] = s
		}
		s.Timeout = cfg.TargetTimeout(t)

		target := prober.Target{Domain: t.Domain}
		if t.Host != "" {
			target = prober.Target{}
			target.Host, target.Port = t.HostPort()
		}
		fp, err := json.Marshal(struct {
			Target *config.Target
			Module *config.Module
			DNS    config.DNS
		}{t, mod, cfg.DNS})
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, Job{
			Key:         store.Key(t.Name(), modName),
			Name:        t.Name(),
			Module:      modName,
			Target:      target,
			Settings:    s,
			Interval:    cfg.TargetInterval(t),
			Fingerprint: string(fp),
		})
	}
	return jobs, nil
}
