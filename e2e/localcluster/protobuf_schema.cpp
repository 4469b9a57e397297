// The protobuf messages kubectl 1.32 and later send for typed `create` commands (serviceaccount,
// token, secret, configmap, namespace, job --from=cronjob, cronjob), as field numbers and JSON
// names: the wire facts of k8s.io/api and k8s.io/apimachinery's generated.proto, written out for
// the decoder in protobuf_json.cpp. One message per line:
//   Message: <number> <jsonName> <type>; ...
// Types: string, bytes, bool, int32, int64, a message name, "[]" for repeated, "map:V" for
// map<string, V>. "^" marks a Go-embedded field whose JSON is inlined into the parent; "?" a
// scalar that is a pointer in Go (kept when zero; other zero scalars are dropped, as Go's JSON
// omitempty does); "!" a message the local cluster does not decode (a request carrying a non-zero
// one is refused, never half-read).
// Time, MicroTime, Quantity, IntOrString and RawExtension are decoded by code.
#include "e2e/localcluster/protobuf_json.h"

namespace sdb::localcluster {

const char* protobufSchemaText() {
  return R"SCHEMA(
Job: 1 metadata ObjectMeta; 2 spec JobSpec; 3 status !JobStatus
ObjectMeta: 1 name string; 2 generateName string; 3 namespace string; 4 selfLink string; 5 uid string; 6 resourceVersion string; 7 generation int64; 8 creationTimestamp Time; 9 deletionTimestamp Time; 10 deletionGracePeriodSeconds ?int64; 11 labels map:string; 12 annotations map:string; 13 ownerReferences []OwnerReference; 14 finalizers []string; 17 managedFields []!ManagedFieldsEntry
OwnerReference: 5 apiVersion string; 1 kind string; 3 name string; 4 uid string; 6 controller ?bool; 7 blockOwnerDeletion ?bool
JobSpec: 1 parallelism ?int32; 2 completions ?int32; 3 activeDeadlineSeconds ?int64; 11 podFailurePolicy PodFailurePolicy; 16 successPolicy !SuccessPolicy; 7 backoffLimit ?int32; 12 backoffLimitPerIndex ?int32; 13 maxFailedIndexes ?int32; 4 selector LabelSelector; 5 manualSelector ?bool; 6 template PodTemplateSpec; 8 ttlSecondsAfterFinished ?int32; 9 completionMode ?string; 10 suspend ?bool; 14 podReplacementPolicy ?string; 15 managedBy ?string; 17 scheduling !JobSchedulingConfiguration
PodFailurePolicy: 1 rules []PodFailurePolicyRule
PodFailurePolicyRule: 1 action string; 2 onExitCodes PodFailurePolicyOnExitCodesRequirement; 3 onPodConditions []PodFailurePolicyOnPodConditionsPattern
PodFailurePolicyOnExitCodesRequirement: 1 containerName ?string; 2 operator string; 3 values []int32
PodFailurePolicyOnPodConditionsPattern: 1 type string; 2 status string
LabelSelector: 1 matchLabels map:string; 2 matchExpressions []LabelSelectorRequirement
LabelSelectorRequirement: 1 key string; 2 operator string; 3 values []string
PodTemplateSpec: 1 metadata ObjectMeta; 2 spec PodSpec
PodSpec: 1 volumes []Volume; 20 initContainers []Container; 2 containers []Container; 34 ephemeralContainers []!EphemeralContainer; 3 restartPolicy string; 4 terminationGracePeriodSeconds ?int64; 5 activeDeadlineSeconds ?int64; 6 dnsPolicy string; 7 nodeSelector map:string; 8 serviceAccountName string; 9 serviceAccount string; 21 automountServiceAccountToken ?bool; 10 nodeName string; 11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool; 27 shareProcessNamespace ?bool; 14 securityContext PodSecurityContext; 15 imagePullSecrets []LocalObjectReference; 16 hostname string; 17 subdomain string; 18 affinity Affinity; 19 schedulerName string; 22 tolerations []Toleration; 23 hostAliases []HostAlias; 24 priorityClassName string; 25 priority ?int32; 26 dnsConfig PodDNSConfig; 28 readinessGates []PodReadinessGate; 29 runtimeClassName ?string; 30 enableServiceLinks ?bool; 31 preemptionPolicy ?string; 32 overhead map:Quantity; 33 topologySpreadConstraints []TopologySpreadConstraint; 35 setHostnameAsFQDN ?bool; 36 os PodOS; 37 hostUsers ?bool; 38 schedulingGates []PodSchedulingGate; 39 resourceClaims []!PodResourceClaim; 40 resources ResourceRequirements; 41 hostnameOverride ?string; 43 schedulingGroup !PodSchedulingGroup; 44 evictionResponders []!EvictionResponder
Volume: 1 name string; 2 ^volumeSource VolumeSource
VolumeSource: 1 hostPath HostPathVolumeSource; 2 emptyDir EmptyDirVolumeSource; 3 gcePersistentDisk !GCEPersistentDiskVolumeSource; 4 awsElasticBlockStore !AWSElasticBlockStoreVolumeSource; 5 gitRepo !GitRepoVolumeSource; 6 secret SecretVolumeSource; 7 nfs !NFSVolumeSource; 8 iscsi !ISCSIVolumeSource; 9 glusterfs !GlusterfsVolumeSource; 10 persistentVolumeClaim PersistentVolumeClaimVolumeSource; 11 rbd !RBDVolumeSource; 12 flexVolume !FlexVolumeSource; 13 cinder !CinderVolumeSource; 14 cephfs !CephFSVolumeSource; 15 flocker !FlockerVolumeSource; 16 downwardAPI DownwardAPIVolumeSource; 17 fc !FCVolumeSource; 18 azureFile !AzureFileVolumeSource; 19 configMap ConfigMapVolumeSource; 20 vsphereVolume !VsphereVirtualDiskVolumeSource; 21 quobyte !QuobyteVolumeSource; 22 azureDisk !AzureDiskVolumeSource; 23 photonPersistentDisk !PhotonPersistentDiskVolumeSource; 26 projected ProjectedVolumeSource; 24 portworxVolume !PortworxVolumeSource; 25 scaleIO !ScaleIOVolumeSource; 27 storageos !StorageOSVolumeSource; 28 csi !CSIVolumeSource; 29 ephemeral !EphemeralVolumeSource; 30 image !ImageVolumeSource
HostPathVolumeSource: 1 path string; 2 type ?string
EmptyDirVolumeSource: 1 medium string; 2 sizeLimit Quantity; 3 mode ?int32
SecretVolumeSource: 1 secretName string; 2 items []KeyToPath; 3 defaultMode ?int32; 4 optional ?bool; 5 defaultUser ?int64
KeyToPath: 1 key string; 2 path string; 3 mode ?int32; 4 user ?int64
PersistentVolumeClaimVolumeSource: 1 claimName string; 2 readOnly bool
DownwardAPIVolumeSource: 1 items []DownwardAPIVolumeFile; 2 defaultMode ?int32; 3 defaultUser ?int64
DownwardAPIVolumeFile: 1 path string; 2 fieldRef ObjectFieldSelector; 3 resourceFieldRef ResourceFieldSelector; 4 mode ?int32; 5 user ?int64
ObjectFieldSelector: 1 apiVersion string; 2 fieldPath string
ResourceFieldSelector: 1 containerName string; 2 resource string; 3 divisor Quantity
ConfigMapVolumeSource: 1 ^localObjectReference LocalObjectReference; 2 items []KeyToPath; 3 defaultMode ?int32; 4 optional ?bool; 5 defaultUser ?int64
LocalObjectReference: 1 name string
ProjectedVolumeSource: 1 sources []VolumeProjection; 2 defaultMode ?int32; 3 defaultUser ?int64
VolumeProjection: 1 secret SecretProjection; 2 downwardAPI DownwardAPIProjection; 3 configMap ConfigMapProjection; 4 serviceAccountToken ServiceAccountTokenProjection; 5 clusterTrustBundle !ClusterTrustBundleProjection; 6 podCertificate !PodCertificateProjection
SecretProjection: 1 ^localObjectReference LocalObjectReference; 2 items []KeyToPath; 4 optional ?bool
DownwardAPIProjection: 1 items []DownwardAPIVolumeFile
ConfigMapProjection: 1 ^localObjectReference LocalObjectReference; 2 items []KeyToPath; 4 optional ?bool
ServiceAccountTokenProjection: 1 audience string; 2 expirationSeconds ?int64; 3 path string; 4 user ?int64
Container: 1 name string; 2 image string; 3 command []string; 4 args []string; 5 workingDir string; 6 ports []ContainerPort; 19 envFrom []EnvFromSource; 7 env []EnvVar; 8 resources ResourceRequirements; 23 resizePolicy []ContainerResizePolicy; 24 restartPolicy ?string; 25 restartPolicyRules []ContainerRestartRule; 9 volumeMounts []VolumeMount; 21 volumeDevices []VolumeDevice; 10 livenessProbe Probe; 11 readinessProbe Probe; 22 startupProbe Probe; 12 lifecycle Lifecycle; 13 terminationMessagePath string; 20 terminationMessagePolicy string; 14 imagePullPolicy string; 15 securityContext SecurityContext; 16 stdin bool; 17 stdinOnce bool; 18 tty bool
ContainerPort: 1 name string; 2 hostPort int32; 3 containerPort int32; 4 protocol string; 5 hostIP string
EnvFromSource: 1 prefix string; 2 configMapRef ConfigMapEnvSource; 3 secretRef SecretEnvSource
ConfigMapEnvSource: 1 ^localObjectReference LocalObjectReference; 2 optional ?bool
SecretEnvSource: 1 ^localObjectReference LocalObjectReference; 2 optional ?bool
EnvVar: 1 name string; 2 value string; 3 valueFrom EnvVarSource
EnvVarSource: 1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector; 3 configMapKeyRef ConfigMapKeySelector; 4 secretKeyRef SecretKeySelector; 5 fileKeyRef !FileKeySelector
ConfigMapKeySelector: 1 ^localObjectReference LocalObjectReference; 2 key string; 3 optional ?bool
SecretKeySelector: 1 ^localObjectReference LocalObjectReference; 2 key string; 3 optional ?bool
ResourceRequirements: 1 limits map:Quantity; 2 requests map:Quantity; 3 claims []!ResourceClaim
ContainerResizePolicy: 1 resourceName string; 2 restartPolicy string
ContainerRestartRule: 1 action string; 2 exitCodes ContainerRestartRuleOnExitCodes
ContainerRestartRuleOnExitCodes: 1 operator string; 2 values []int32
VolumeMount: 1 name string; 2 readOnly bool; 7 recursiveReadOnly ?string; 3 mountPath string; 4 subPath string; 5 mountPropagation ?string; 6 subPathExpr string; 8 bindMountOptions []string
VolumeDevice: 1 name string; 2 devicePath string
Probe: 1 ^handler ProbeHandler; 2 initialDelaySeconds int32; 3 timeoutSeconds int32; 4 periodSeconds int32; 5 successThreshold int32; 6 failureThreshold int32; 7 terminationGracePeriodSeconds ?int64
ProbeHandler: 1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction; 4 grpc GRPCAction
ExecAction: 1 command []string
HTTPGetAction: 1 path string; 2 port IntOrString; 3 host string; 4 scheme string; 5 httpHeaders []HTTPHeader; 6 protocol ?string
HTTPHeader: 1 name string; 2 value string
TCPSocketAction: 1 port IntOrString; 2 host string
GRPCAction: 1 port int32; 2 service ?string; 3 mode ?string
Lifecycle: 1 postStart LifecycleHandler; 2 preStop LifecycleHandler; 3 stopSignal ?string
LifecycleHandler: 1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction; 4 sleep SleepAction
SleepAction: 1 seconds int64
SecurityContext: 1 capabilities Capabilities; 2 privileged ?bool; 3 seLinuxOptions SELinuxOptions; 10 windowsOptions !WindowsSecurityContextOptions; 4 runAsUser ?int64; 8 runAsGroup ?int64; 5 runAsNonRoot ?bool; 6 readOnlyRootFilesystem ?bool; 7 allowPrivilegeEscalation ?bool; 9 procMount ?string; 11 seccompProfile SeccompProfile; 12 appArmorProfile AppArmorProfile
Capabilities: 1 add []string; 2 drop []string
SELinuxOptions: 1 user string; 2 role string; 3 type string; 4 level string
SeccompProfile: 1 type string; 2 localhostProfile ?string
AppArmorProfile: 1 type string; 2 localhostProfile ?string
PodSecurityContext: 1 seLinuxOptions SELinuxOptions; 8 windowsOptions !WindowsSecurityContextOptions; 2 runAsUser ?int64; 6 runAsGroup ?int64; 3 runAsNonRoot ?bool; 4 supplementalGroups []int64; 12 supplementalGroupsPolicy ?string; 5 fsGroup ?int64; 7 sysctls []Sysctl; 9 fsGroupChangePolicy ?string; 10 seccompProfile SeccompProfile; 11 appArmorProfile AppArmorProfile; 13 seLinuxChangePolicy ?string
Sysctl: 1 name string; 2 value string
Affinity: 1 nodeAffinity NodeAffinity; 2 podAffinity PodAffinity; 3 podAntiAffinity PodAntiAffinity
NodeAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector; 2 preferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm
NodeSelector: 1 nodeSelectorTerms []NodeSelectorTerm
NodeSelectorTerm: 1 matchExpressions []NodeSelectorRequirement; 2 matchFields []NodeSelectorRequirement
NodeSelectorRequirement: 1 key string; 2 operator string; 3 values []string
PreferredSchedulingTerm: 1 weight int32; 2 preference NodeSelectorTerm
PodAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm; 2 preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
PodAffinityTerm: 1 labelSelector LabelSelector; 2 namespaces []string; 3 topologyKey string; 4 namespaceSelector LabelSelector; 5 matchLabelKeys []string; 6 mismatchLabelKeys []string
WeightedPodAffinityTerm: 1 weight int32; 2 podAffinityTerm PodAffinityTerm
PodAntiAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm; 2 preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
Toleration: 1 key string; 2 operator string; 3 value string; 4 effect string; 5 tolerationSeconds ?int64
HostAlias: 1 ip string; 2 hostnames []string
PodDNSConfig: 1 nameservers []string; 2 searches []string; 3 options []PodDNSConfigOption
PodDNSConfigOption: 1 name string; 2 value ?string
PodReadinessGate: 1 conditionType string
TopologySpreadConstraint: 1 maxSkew int32; 2 topologyKey string; 3 whenUnsatisfiable string; 4 labelSelector LabelSelector; 5 minDomains ?int32; 6 nodeAffinityPolicy ?string; 7 nodeTaintsPolicy ?string; 8 matchLabelKeys []string
PodOS: 1 name string
PodSchedulingGate: 1 name string
CronJob: 1 metadata ObjectMeta; 2 spec CronJobSpec; 3 status !CronJobStatus
CronJobSpec: 1 schedule string; 8 timeZone ?string; 2 startingDeadlineSeconds ?int64; 3 concurrencyPolicy string; 4 suspend ?bool; 5 jobTemplate JobTemplateSpec; 6 successfulJobsHistoryLimit ?int32; 7 failedJobsHistoryLimit ?int32
JobTemplateSpec: 1 metadata ObjectMeta; 2 spec JobSpec
TokenRequest: 1 metadata ObjectMeta; 2 spec TokenRequestSpec; 3 status !TokenRequestStatus
TokenRequestSpec: 1 audiences []string; 4 expirationSeconds ?int64; 3 boundObjectRef BoundObjectReference; 5 attestations map:AttestationValue
BoundObjectReference: 1 kind string; 2 apiVersion string; 3 name string; 4 uid string
ServiceAccount: 1 metadata ObjectMeta; 2 secrets []ObjectReference; 3 imagePullSecrets []LocalObjectReference; 4 automountServiceAccountToken ?bool
ObjectReference: 1 kind string; 2 namespace string; 3 name string; 4 uid string; 5 apiVersion string; 6 resourceVersion string; 7 fieldPath string
Secret: 1 metadata ObjectMeta; 5 immutable ?bool; 2 data map:bytes; 4 stringData map:string; 3 type string
ConfigMap: 1 metadata ObjectMeta; 4 immutable ?bool; 2 data map:string; 3 binaryData map:bytes
Namespace: 1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status !NamespaceStatus
NamespaceSpec: 1 finalizers []string
)SCHEMA";
}

}  // namespace sdb::localcluster
