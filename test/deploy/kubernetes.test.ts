import { createHash } from 'node:crypto';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { PROJECT_ROOT } from '../support/harness';
import { DEFAULT_PORT, DRAIN_MS, envFile, read, readYaml, variablesTheGatewayReads } from './deploy-files';

// Validated against the Kubernetes API's JSON schemas (kubernetes-models); never applied to a cluster.
const K = 'deploy/kubernetes';
const kustomization = readYaml(`${K}/kustomization.yaml`);
const deployment = new Deployment(readYaml(`${K}/deployment.yaml`));
const pod = deployment.spec!.template.spec!;
const gateway = pod.containers.find((container) => container.name === 'gateway')!;
const configMap = envFile(`${K}/gateway.env`);
const secretKeys = Object.keys(envFile(`${K}/secrets.env.example`));
const secretRefs = (gateway.env ?? []).map((variable) => ({ name: variable.name, ref: variable.valueFrom?.secretKeyRef, literal: variable.value }));

describe('Kubernetes manifests', () => {
  it('are valid objects of the Kubernetes API, each listed in the kustomization', () => {
    expect(kustomization.resources).toEqual(['deployment.yaml', 'service.yaml', 'hpa.yaml', 'pdb.yaml']);
    deployment.validate();
    new Service(readYaml(`${K}/service.yaml`)).validate();
    new HorizontalPodAutoscaler(readYaml(`${K}/hpa.yaml`)).validate();
    new PodDisruptionBudget(readYaml(`${K}/pdb.yaml`)).validate();
  });

  it('refuses an invalid object (the validation is real)', () => {
    expect(() => new Deployment({ ...readYaml(`${K}/deployment.yaml`), spec: { ...readYaml(`${K}/deployment.yaml`).spec, replicas: 'two' } }).validate()).toThrow();
  });

  it('probes /readyz for readiness and /healthz for liveness, on the port the gateway listens on', () => {
    expect(gateway.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(gateway.livenessProbe?.httpGet?.path).toBe('/healthz');
    const http = gateway.ports!.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(Number(configMap.PORT ?? DEFAULT_PORT));
    expect(gateway.readinessProbe?.httpGet?.port).toBe('http');
    expect(gateway.livenessProbe?.httpGet?.port).toBe('http');
    // The paths the gateway serves.
    const server = read('src/server/gateway-server.ts');
    expect(server).toContain("path === '/healthz'");
    expect(server).toContain("path === '/readyz'");
    const service = new Service(readYaml(`${K}/service.yaml`));
    expect(service.spec!.ports!.map((port) => port.targetPort)).toEqual(['http']);
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
  });

  it('gives a stopping pod a preStop pause and a grace period longer than pause plus drain', () => {
    const pause = gateway.lifecycle?.preStop?.exec?.command;
    expect(pause?.[0]).toBe('sleep');
    const pauseSeconds = Number(pause![1]);
    expect(pauseSeconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pauseSeconds + DRAIN_MS / 1000);
  });

  it('runs as a non-root user without privilege escalation', () => {
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).not.toBe(0);
    expect(gateway.securityContext?.allowPrivilegeEscalation).toBe(false);
  });

  it('scales on CPU with autoscaling/v2 and keeps one pod through voluntary disruptions', () => {
    const hpa = new HorizontalPodAutoscaler(readYaml(`${K}/hpa.yaml`));
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
    expect(hpa.spec!.metrics!.map((metric) => metric.resource?.name)).toEqual(['cpu']);
    expect(hpa.spec!.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = new PodDisruptionBudget(readYaml(`${K}/pdb.yaml`));
    expect(pdb.spec!.selector!.matchLabels).toEqual(deployment.spec!.selector.matchLabels);
    expect(pdb.spec!.minAvailable).toBeLessThan(hpa.spec!.minReplicas!);
  });

  it('takes configuration from the generated ConfigMap and every secret from the Secret, never as a literal', () => {
    const generatedConfig = kustomization.configMapGenerator.map((generator: { name: string }) => generator.name);
    const generatedSecret = kustomization.secretGenerator.map((generator: { name: string }) => generator.name);
    expect(gateway.envFrom?.map((source) => source.configMapRef?.name)).toEqual(generatedConfig);
    expect(kustomization.configMapGenerator[0].envs).toEqual(['gateway.env']);
    expect(secretRefs.filter((variable) => variable.literal !== undefined)).toEqual([]);
    for (const variable of secretRefs) expect(variable.ref).toEqual({ name: generatedSecret[0], key: variable.name });
    expect(secretRefs.map((variable) => variable.name).sort()).toEqual([...secretKeys].sort());
    // Nothing that looks like a credential in the ConfigMap.
    expect(Object.keys(configMap).filter((name) => /SECRET|TOKEN|PASSWORD|API_KEY|CLIENT_ID|DATABASE_URL|REDIS_URL/.test(name))).toEqual([]);
  });

  it('provides every credential the replicas configuration asks for through the Secret', async () => {
    const config = await loadConfigFile(join(PROJECT_ROOT, 'deploy/virtualization.config.js'));
    const references = [
      ...Object.values(config.cache.webhooks.secrets),
      ...Object.values(config.registry.credentials).map((credential) => credential.token),
      config.guard.budget.store.kind === 'redis' ? config.guard.budget.store.url : undefined,
      config.cache.shared.kind === 'redis' ? config.cache.shared.url : undefined,
    ].flatMap((reference) => (reference && typeof reference === 'object' ? [reference.env] : []));
    expect(references.length).toBeGreaterThan(0);
    for (const name of references) expect([name, secretKeys.includes(name)]).toEqual([name, true]);
  });

  it('sets only variables the gateway reads, production mode among them', () => {
    const reads = variablesTheGatewayReads();
    for (const name of [...Object.keys(configMap), ...secretKeys]) expect([name, reads.has(name)]).toEqual([name, true]);
    expect(configMap).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
  });

  it('rolls the pods when the configuration changes: the checksum annotation is the sha256 of gateway.env', () => {
    const annotation = deployment.spec!.template.metadata!.annotations!['virtualize.dev/config-sha256'];
    expect(annotation).toBe(createHash('sha256').update(read(`${K}/gateway.env`)).digest('hex'));
  });
});
